package store

import syndicate "github.com/yongzhou-news/syndicate"

// An article's sanitised content (syndicate.Article.Sanitized) is saved with the article hash it
// was made from, and read back only for that hash: a writer that knows nothing of it (a replica
// still on an older version during an upgrade) changes the article alone, and builds must not
// then render the previous version's content.

// SanitizedHash is what a store saves as the article hash its sanitised content belongs to:
// hash when the article comes with some, and nothing otherwise.
func SanitizedHash(hash string, s syndicate.Sanitized) string {
	if s.Policy == "" {
		return ""
	}
	return hash
}

// SanitizedFor returns the sanitised content a store read for the article version hash, or
// nothing when it was saved for another version (savedFor).
func SanitizedFor(hash, savedFor string, s syndicate.Sanitized) syndicate.Sanitized {
	if savedFor == "" || savedFor != hash {
		return syndicate.Sanitized{}
	}
	return s
}

// SanitizedContent is sanitised content a build made for the article version Hash, because the
// store held none under the current policy (an article stored by an older version, or before a
// policy change). CommitBuild saves it only while the article is still that version.
type SanitizedContent struct {
	ArticleID, Hash string
	syndicate.Sanitized
}
