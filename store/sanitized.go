package store

import syndicate "github.com/yongzhou-news/syndicate"

// SanitizedHTML is what a store saves as the sanitised HTML of an article with content: nil
// (NULL) when it is that content unchanged, as a CMS's clean HTML is, so stories are not stored
// and read twice.
func SanitizedHTML(content string, s syndicate.Sanitized) *string {
	if s.HTML == content {
		return nil
	}
	return &s.HTML
}

// SanitizedContent is sanitised content a build made for the article version Hash, because the
// store held none under the current policy (an article stored by an older version, or before a
// policy change). CommitBuild saves it only while the article is still that version.
type SanitizedContent struct {
	ArticleID, Hash, Policy string
	HTML                    *string // as SanitizedHTML returns it
}
