package syndicate

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestHashedArticleMatchesArticle: hashedArticle is a hand-kept copy of Article's encoded fields,
// so a field added to one and not the other would change what Hash covers, or every stored hash,
// without a word. Both must list the same keys in the same order with the same options; omitempty
// on a struct (time.Time) does nothing in encoding/json, so it does not count.
func TestHashedArticleMatchesArticle(t *testing.T) {
	tags := func(typ reflect.Type) []string {
		var out []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			if tag == "" {
				t.Errorf("%s.%s has no json tag", typ.Name(), f.Name)
			}
			if f.Type.Kind() == reflect.Struct {
				tag = strings.TrimSuffix(tag, ",omitempty")
			}
			out = append(out, tag)
		}
		return out
	}
	article, hashed := tags(reflect.TypeFor[Article]()), tags(reflect.TypeFor[hashedArticle]())
	if !slices.Equal(article, hashed) {
		t.Errorf("Article encodes %q,\nhashedArticle %q: keep them the same (article.go)", article, hashed)
	}
}
