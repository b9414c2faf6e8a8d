package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/config"
)

// The built-in limits are syndicate.DefaultLimits, so a service and a library caller agree.
func TestDefaultLimits(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Limits.Article(), syndicate.DefaultLimits(); !reflect.DeepEqual(got, want) {
		t.Errorf("built-in limits %+v\nDefaultLimits   %+v", got, want)
	}
}

func TestLimitsFromTheEnvironment(t *testing.T) {
	c, err := config.Load("", []string{"SYNDICATE_LIMITS_FUTURE_HORIZON=2h", "SYNDICATE_LIMITS_MAX_REJECTIONS=7"})
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Limits.Article(); l.FutureHorizon != 2*time.Hour || l.MaxRejections != 7 {
		t.Errorf("limits %+v", l)
	}
	for _, tt := range []struct{ env, key string }{
		{"SYNDICATE_LIMITS_MAX_TITLE_BYTES=0", "limits.max_title_bytes"},
		{"SYNDICATE_LIMITS_MAX_TAGS=-1", "limits.max_tags"},
		{"SYNDICATE_LIMITS_MAX_ID_BYTES=300", "limits.max_id_bytes"},
		{"SYNDICATE_LIMITS_FUTURE_HORIZON=0s", "limits.future_horizon"},
		{"SYNDICATE_LIMITS_FUTURE_HORIZON=soon", "limits.future_horizon"},
	} {
		if _, err := config.Load("", []string{tt.env}); err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: err = %v, want it to name %s", tt.env, err, tt.key)
		}
	}
}
