package feed

import (
	"strings"
	"unicode/utf8"
)

// truncate shortens s to at most n runes, ending with an ellipsis when it cut something. It cuts
// at the last space in the final quarter when there is one, so Latin words stay whole; Chinese
// text has no spaces and is cut at the rune.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	end, runes := 0, 0
	for i := range s {
		if runes == n-1 {
			end = i
			break
		}
		runes++
	}
	head := s[:end]
	if sp := strings.LastIndexByte(head, ' '); sp > len(head)*3/4 {
		head = head[:sp]
	}
	return strings.TrimRight(head, " ,.;:，。；：、") + "…"
}
