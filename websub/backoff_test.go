package websub

import (
	"testing"
	"time"
)

// TestBackoffRange: the wait before attempt n+1 lies in [d/2, d] for d = BackoffBase·2ⁿ⁻¹
// capped at BackoffMax, and spreads over that range rather than sitting at one end.
func TestBackoffRange(t *testing.T) {
	n := &Notifier{opt: Options{BackoffBase: 5 * time.Second, BackoffMax: 10 * time.Minute}}
	tests := []struct {
		attempts int
		d        time.Duration
	}{
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{7, 320 * time.Second},
		{8, 10 * time.Minute}, // 640 s, capped
		{30, 10 * time.Minute},
	}
	for _, tt := range tests {
		lo, hi := tt.d, time.Duration(0)
		for range 2000 {
			w := n.backoff(tt.attempts)
			if w < tt.d/2 || w > tt.d {
				t.Fatalf("backoff(%d) = %s, outside [%s, %s]", tt.attempts, w, tt.d/2, tt.d)
			}
			lo, hi = min(lo, w), max(hi, w)
		}
		// 2000 uniform draws leave the lowest and highest within a few thousandths of the ends.
		if lo > tt.d/2+tt.d/50 || hi < tt.d-tt.d/50 {
			t.Errorf("backoff(%d) ranged over [%s, %s]; want about [%s, %s]", tt.attempts, lo, hi, tt.d/2, tt.d)
		}
	}
}
