package syndicate

import (
	"time"
)

// Limits are the bounds every door applies to incoming articles: the admin API, `syndicate
// import` and upstream ingest. A zero field means its default (DefaultLimits), so Limits{} is
// a usable value.
type Limits struct {
	// FutureHorizon is how far past now published_at and updated_at may lie. A story dated later
	// would sit on top of its channel until that date; clock skew and a local time sent as UTC
	// (at most 14 hours) fit inside the default.
	FutureHorizon time.Duration
	MaxIDBytes    int // at most MaxArticleIDLen
	MaxTitleBytes int
	// MaxSummaryBytes and MaxContentBytes bound the decoded text, not its JSON encoding.
	MaxSummaryBytes int
	MaxContentBytes int
	MaxAuthors      int
	MaxAuthorBytes  int
	MaxTags         int
	MaxTagBytes     int
	MaxEditorBytes  int
	MaxSourceBytes  int
	MaxURLBytes     int // url and image_url
	// MaxRecordBytes bounds one record as sent (its JSON, escapes included); a decoder holds at
	// most about this much of a body at a time.
	MaxRecordBytes int
	// MaxRejections is how many rejected records an import report lists; it counts them all.
	MaxRejections int
	// Now is the clock the future horizon is measured from; nil means time.Now.
	Now func() time.Time
}

// DefaultLimits returns limits a real portal never reaches: the longest story the 红网 archive
// holds is well under a tenth of MaxContentBytes.
func DefaultLimits() Limits {
	return Limits{
		FutureHorizon:   24 * time.Hour,
		MaxIDBytes:      MaxArticleIDLen,
		MaxTitleBytes:   2000,
		MaxSummaryBytes: 64 << 10,
		MaxContentBytes: 2 << 20,
		MaxAuthors:      50,
		MaxAuthorBytes:  200,
		MaxTags:         100,
		MaxTagBytes:     200,
		MaxEditorBytes:  200,
		MaxSourceBytes:  200,
		MaxURLBytes:     4096,
		// Content escaped as \u003c takes six bytes per byte; 8 MiB leaves room for a content
		// of MaxContentBytes written with a common share of escapes.
		MaxRecordBytes: 8 << 20,
		MaxRejections:  100,
	}
}

// orDefault fills every zero field from DefaultLimits.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.FutureHorizon <= 0 {
		l.FutureHorizon = d.FutureHorizon
	}
	set(&l.MaxIDBytes, d.MaxIDBytes)
	l.MaxIDBytes = min(l.MaxIDBytes, MaxArticleIDLen)
	set(&l.MaxTitleBytes, d.MaxTitleBytes)
	set(&l.MaxSummaryBytes, d.MaxSummaryBytes)
	set(&l.MaxContentBytes, d.MaxContentBytes)
	set(&l.MaxAuthors, d.MaxAuthors)
	set(&l.MaxAuthorBytes, d.MaxAuthorBytes)
	set(&l.MaxTags, d.MaxTags)
	set(&l.MaxTagBytes, d.MaxTagBytes)
	set(&l.MaxEditorBytes, d.MaxEditorBytes)
	set(&l.MaxSourceBytes, d.MaxSourceBytes)
	set(&l.MaxURLBytes, d.MaxURLBytes)
	set(&l.MaxRecordBytes, d.MaxRecordBytes)
	set(&l.MaxRejections, d.MaxRejections)
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// Rejections returns how many rejected records a report lists.
func (l Limits) Rejections() int { return l.orDefault().MaxRejections }

// The plausible range of dates, whatever the horizon. EarliestDate is after 1900 because
// Asia/Shanghai kept local mean time (+08:05:43) until 1901 and RFC 3339 offsets cannot carry
// its seconds; LatestDate keeps a four-digit year in every zone up to +14:00, which
// Time.MarshalJSON and every feed format need.
var (
	EarliestDate = time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestDate   = time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)
)

const maxZoneOffset = 14 * 60 * 60

// CheckDate reports whether t, the value of the named field, is a plausible article date: not
// before EarliestDate and not past now plus the future horizon. The error names the field.
func (l Limits) CheckDate(field string, t time.Time) error {
	l = l.orDefault()
	// time.Parse takes offsets up to ±23:59 and Time.MarshalJSON refuses ±24:00 and beyond
	// (the store would fail on the record); no zone in use is past -12:00 or +14:00.
	if _, offset := t.Zone(); offset < -maxZoneOffset || offset > maxZoneOffset {
		return FieldError(field, "%s has a time zone offset beyond ±14:00", formatDate(t))
	}
	switch {
	case t.Before(EarliestDate):
		return FieldError(field, "%s is before %s", formatDate(t), EarliestDate.Format(time.RFC3339))
	case t.After(LatestDate):
		return FieldError(field, "%s is after %s", formatDate(t), LatestDate.Format(time.RFC3339))
	}
	if latest := l.Now().Add(l.FutureHorizon); t.After(latest) {
		return FieldError(field, "%s is more than %s in the future (limits.future_horizon)", formatDate(t), l.FutureHorizon)
	}
	return nil
}

// ClampDate is for dates a door cannot reject, such as an upstream feed's: a date past the
// future horizon becomes now, and ok is false for a date outside the plausible range, which the
// caller should treat as no date at all.
func (l Limits) ClampDate(t time.Time) (clamped time.Time, ok bool) {
	l = l.orDefault()
	if _, offset := t.Zone(); offset < -maxZoneOffset || offset > maxZoneOffset {
		t = t.UTC()
	}
	if t.Before(EarliestDate) || t.After(LatestDate) {
		return time.Time{}, false
	}
	if now := l.Now(); t.After(now.Add(l.FutureHorizon)) {
		return now, true
	}
	return t, true
}

// formatDate writes any time, even one whose year has five digits, without Time.MarshalJSON's
// range check.
func formatDate(t time.Time) string { return t.Format(time.RFC3339) }
