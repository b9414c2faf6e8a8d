// Command importgen writes a generated import input (bench/importdata) to standard output, for
// bench/run.sh: importgen -n 100000 > articles.jsonl.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/yongzhou-news/syndicate/bench/importdata"
)

func main() {
	n := flag.Int("n", 100_000, "records")
	channels := flag.String("channels", "lingling,qiyang,shuangpai,dongan,daoxian,jiangyong,jianghua,ningyuan", "channels, comma-separated")
	edition := flag.Int("edition", 0, "edition written into every title (another edition changes every record)")
	csv := flag.Bool("csv", false, "write the rows sqlite3 .import loads (id, channel, published_at, hash, data), not JSON Lines")
	flag.Parse()
	spec := importdata.Spec{N: *n, Channels: strings.Split(*channels, ","), Edition: *edition}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var err error
	if *csv {
		err = spec.WriteCSV(w)
	} else {
		_, err = spec.WriteTo(w)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "importgen:", err)
		os.Exit(1)
	}
}
