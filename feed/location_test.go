package feed

import (
	"testing"
	"time"
)

// TestLocation: the zone every package renders and checks dates in is loaded once and shared;
// "" is UTC, and a zone that does not exist is an error for the caller to report.
func TestLocation(t *testing.T) {
	shanghai, err := Location("Asia/Shanghai")
	if err != nil || shanghai.String() != "Asia/Shanghai" {
		t.Fatalf("Location(Asia/Shanghai) = %v, %v", shanghai, err)
	}
	if again, _ := Location("Asia/Shanghai"); again != shanghai {
		t.Error("a second call loaded the zone again instead of sharing it")
	}
	if utc, err := Location(""); err != nil || utc != time.UTC {
		t.Errorf(`Location("") = %v, %v; want UTC`, utc, err)
	}
	if l, err := Location("Mars/Olympus_Mons"); err == nil {
		t.Errorf("Location of an unknown zone = %v, want an error", l)
	}
}
