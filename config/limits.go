package config

import (
	"fmt"
	"reflect"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Limits bound the articles every door accepts (README, Limits). Sizes are in bytes of UTF-8.
type Limits struct {
	FutureHorizon   Duration `yaml:"future_horizon"`
	MaxIDBytes      int      `yaml:"max_id_bytes"`
	MaxTitleBytes   int      `yaml:"max_title_bytes"`
	MaxSummaryBytes int      `yaml:"max_summary_bytes"`
	MaxContentBytes int      `yaml:"max_content_bytes"`
	MaxAuthors      int      `yaml:"max_authors"`
	MaxAuthorBytes  int      `yaml:"max_author_bytes"`
	MaxTags         int      `yaml:"max_tags"`
	MaxTagBytes     int      `yaml:"max_tag_bytes"`
	MaxEditorBytes  int      `yaml:"max_editor_bytes"`
	MaxSourceBytes  int      `yaml:"max_source_bytes"`
	MaxURLBytes     int      `yaml:"max_url_bytes"`
	MaxRecordBytes  int      `yaml:"max_record_bytes"`
	MaxRejections   int      `yaml:"max_rejections"`
}

// Article returns the limits as the doors take them.
func (l Limits) Article() syndicate.Limits {
	return syndicate.Limits{
		FutureHorizon: l.FutureHorizon.D(), MaxIDBytes: l.MaxIDBytes, MaxTitleBytes: l.MaxTitleBytes,
		MaxSummaryBytes: l.MaxSummaryBytes, MaxContentBytes: l.MaxContentBytes, MaxAuthors: l.MaxAuthors,
		MaxAuthorBytes: l.MaxAuthorBytes, MaxTags: l.MaxTags, MaxTagBytes: l.MaxTagBytes,
		MaxEditorBytes: l.MaxEditorBytes, MaxSourceBytes: l.MaxSourceBytes, MaxURLBytes: l.MaxURLBytes,
		MaxRecordBytes: l.MaxRecordBytes, MaxRejections: l.MaxRejections,
	}
}

// checkLimits wants every limit positive: a zero would silently mean the default, and a
// negative one nothing at all.
func (c *Config) checkLimits() error {
	if c.Limits.FutureHorizon.D() <= 0 {
		return fmt.Errorf("limits.future_horizon: must be positive")
	}
	v := reflect.ValueOf(c.Limits)
	t := v.Type()
	for i := range t.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Int && f.Int() < 1 {
			return fmt.Errorf("limits.%s: %d must be at least 1", t.Field(i).Tag.Get("yaml"), f.Int())
		}
	}
	if c.Limits.MaxIDBytes > syndicate.MaxArticleIDLen {
		return fmt.Errorf("limits.max_id_bytes: %d must be at most %d (ids are part of URLs, tag URIs and NATS message ids)", c.Limits.MaxIDBytes, syndicate.MaxArticleIDLen)
	}
	return nil
}
