package storesql

import syndicate "github.com/yongzhou-news/syndicate"

// sanitizedHash is what a store saves as the article hash its sanitised content belongs to:
// hash when the article comes with some, and nothing otherwise. Sanitised content is read back
// only for that hash (sanitizedFor): a writer that knows nothing of it (a replica still on an
// older version during an upgrade) changes the article alone, and builds must not then render
// the previous version's content.
func sanitizedHash(hash string, s syndicate.Sanitized) string {
	if s.Policy == "" {
		return ""
	}
	return hash
}

// sanitizedFor returns the sanitised content a store read for a, the article version hash: policy
// and html as saved (store.SanitizedHTML), or nothing when they were saved for another version
// (savedFor).
func sanitizedFor(a *syndicate.Article, hash, savedFor, policy string, html *string) syndicate.Sanitized {
	switch {
	case savedFor == "" || savedFor != hash:
		return syndicate.Sanitized{}
	case html == nil:
		return syndicate.Sanitized{Policy: policy, HTML: a.ContentHTML}
	}
	return syndicate.Sanitized{Policy: policy, HTML: *html}
}
