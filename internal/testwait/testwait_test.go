package testwait_test

import (
	"sync/atomic"
	"testing"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	testwait.For(t, "the third poll", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Errorf("cond called %d times, want 3 (For must stop polling once it holds)", n)
	}
}
