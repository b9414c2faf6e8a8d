// Package syndicate holds the domain types every other package shares: articles, the channel tree,
// rendered feed documents, outbox events and coded errors. It imports no other package of the
// module, so store/, feed/, publisher/, build/ and web/ can all depend on it without cycles.
package syndicate
