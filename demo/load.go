package demo

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
)

// Store is what loading the demo needs: whether the store is empty, and the import's writes.
type Store interface {
	ArticleCount(ctx context.Context) (int64, error)
	ingest.Articles
}

// Load imports the demo records into an empty store; a store that holds any article (deleted
// ones included) is left as it is, so an operator's data is never mixed with the demo's.
func Load(ctx context.Context, st Store, tree *syndicate.Tree, log *slog.Logger) error {
	n, err := st.ArticleCount(ctx)
	if err != nil || n > 0 {
		return err
	}
	recs, err := Articles()
	if err != nil {
		return err
	}
	// A site whose channel tree lacks the demo's channels still starts: the demo is a
	// convenience, and failing start-up over it would hide the site's own feeds.
	var missing []string
	for _, r := range recs {
		for _, c := range r.Article.Channels {
			if !tree.Has(c) && !slices.Contains(missing, c) {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) > 0 {
		log.Warn("demo data skipped: the channel tree has no channel "+strings.Join(missing, ", "),
			slog.Any("missing_channels", missing))
		return nil
	}
	rep, err := ingest.Import(ctx, st, tree, recs)
	if err != nil {
		return fmt.Errorf("demo: load: %w", err)
	}
	if len(rep.Rejected) > 0 {
		return fmt.Errorf("demo: article rejected: %s", rep.Rejected[0].Error)
	}
	log.Info("loaded demo data into the empty store", slog.Int("articles", rep.Created))
	return nil
}
