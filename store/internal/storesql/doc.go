// Package storesql is what the SQL adapters (store/sqlite, store/postgres) share beyond their SQL
// text: the decisions of the store's contracts (which rows a batch of upserts writes, how the
// newest items of many channels are found, what a change means to a channel) and the decoding
// of the rows both engines return. Each adapter supplies its own queries; the logic runs here
// once, so the two engines cannot drift apart.
package storesql
