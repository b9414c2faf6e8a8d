package store

// Mark is what ChannelMarks reports for one channel.
type Mark struct {
	Seq   int64 // newest change number that touched the channel
	Filed int64 // newest change number that filed an article in it or removed one (0 if none)
}
