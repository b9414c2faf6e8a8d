package store

import syndicate "github.com/yongzhou-news/syndicate"

// SanitizedHash is what a store saves as the article hash its sanitised content belongs to:
// hash when the article comes with some, and nothing otherwise. Sanitised content is read back
// only for that hash (SanitizedFor): a writer that knows nothing of it (a replica still on an
// older version during an upgrade) changes the article alone, and builds must not then render
// the previous version's content.
func SanitizedHash(hash string, s syndicate.Sanitized) string {
	if s.Policy == "" {
		return ""
	}
	return hash
}

// SanitizedHTML is what a store saves as the sanitised HTML of an article with content: nil
// (NULL) when it is that content unchanged, as a CMS's clean HTML is, so stories are not stored
// and read twice.
func SanitizedHTML(content string, s syndicate.Sanitized) *string {
	if s.HTML == content {
		return nil
	}
	return &s.HTML
}

// SanitizedFor returns the sanitised content a store read for a, the article version hash: policy
// and html as saved (SanitizedHTML), or nothing when they were saved for another version
// (savedFor).
func SanitizedFor(a *syndicate.Article, hash, savedFor, policy string, html *string) syndicate.Sanitized {
	switch {
	case savedFor == "" || savedFor != hash:
		return syndicate.Sanitized{}
	case html == nil:
		return syndicate.Sanitized{Policy: policy, HTML: a.ContentHTML}
	}
	return syndicate.Sanitized{Policy: policy, HTML: *html}
}

// SanitizedContent is sanitised content a build made for the article version Hash, because the
// store held none under the current policy (an article stored by an older version, or before a
// policy change). CommitBuild saves it only while the article is still that version.
type SanitizedContent struct {
	ArticleID, Hash, Policy string
	HTML                    *string // as SanitizedHTML returns it
}
