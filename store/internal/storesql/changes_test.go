package storesql

import (
	"errors"
	"testing"
)

func TestReadsChannel(t *testing.T) {
	tests := []struct {
		name            string
		span, threshold int64
		filings         int64
		wantChannel     bool
		wantCount       bool  // the filings are counted
		wantLimit       int64 // up to
	}{
		{"few changes since: walk them, count nothing", 10, 64, 5, false, false, 0},
		{"at the threshold: walk them", 64, 64, 5, false, false, 0},
		{"bulk import into a small channel: read the channel", 1000, 64, 3, true, true, 1000},
		{"big channel: walk the changes", 1000, 64, 1000, false, true, 1000},
		{"channel as big as the span less one", 1000, 64, 999, true, true, 1000},
		{"threshold 0: every read compares", 5, 0, 4, true, true, 5},
		{"nothing changed", 0, 0, 0, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted, limit := false, int64(0)
			got, err := ReadsChannel(tt.span, tt.threshold, func(l int64) (int64, error) {
				counted, limit = true, l
				return min(tt.filings, l), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantChannel || counted != tt.wantCount || limit != tt.wantLimit {
				t.Errorf("ReadsChannel = %v (counted %v up to %d); want %v (counted %v up to %d)",
					got, counted, limit, tt.wantChannel, tt.wantCount, tt.wantLimit)
			}
		})
	}
	boom := errors.New("boom")
	if _, err := ReadsChannel(100, 0, func(int64) (int64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("count error = %v; want it wrapped", err)
	}
}
