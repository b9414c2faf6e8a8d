package app

import "github.com/yongzhou-news/syndicate/natsaddr"

// NATSAddrFile names the file, in the data dir, that holds the embedded server's actual listen
// address (see package natsaddr).
const NATSAddrFile = natsaddr.File
