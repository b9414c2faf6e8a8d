package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// fieldBounds are the five fields' value ranges as robfig/cron parses them.
var fieldBounds = [5]struct {
	name     string
	min, max int
}{
	{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 6},
}

// checkSteps rejects a step wider than its field, such as "*/61" for minutes. robfig/cron checks
// values and ranges against the field's bounds but accepts any step, so "*/61 * * * *" would
// silently mean "0 * * * *"; crontab tools reject it, and so do we. Other errors are left to the
// parser, which names them.
func checkSteps(fields string) error {
	f := strings.Fields(fields)
	if len(f) != len(fieldBounds) {
		return nil
	}
	for i, field := range f {
		b := fieldBounds[i]
		for part := range strings.SplitSeq(field, ",") {
			_, stepText, ok := strings.Cut(part, "/")
			if !ok {
				continue
			}
			step, err := strconv.Atoi(stepText)
			if err != nil {
				continue
			}
			if step > b.max-b.min {
				return fmt.Errorf("%s field: step (%d) above maximum (%d): %s", b.name, step, b.max-b.min, part)
			}
		}
	}
	return nil
}
