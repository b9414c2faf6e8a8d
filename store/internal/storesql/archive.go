package storesql

import (
	"math"

	syndicate "github.com/yongzhou-news/syndicate"
)

// PageOffset returns how many archive slots come before page (from 1) of size slots, as
// store.Store.ArchivePage counts them: EINVALID if page or size is below 1, and false for a page
// past any archive (its offset overflows).
func PageOffset(page, size int) (int64, bool, error) {
	if page < 1 || size < 1 {
		return 0, false, syndicate.Errorf(syndicate.EINVALID, "archive page %d of size %d: both must be at least 1", page, size)
	}
	if page-1 > math.MaxInt/size {
		return 0, false, nil
	}
	return int64(page-1) * int64(size), true, nil
}
