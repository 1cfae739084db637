// Command ferretdb runs FerretDB, a MongoDB wire-protocol server backed by
// SQLite, for local clusters and tests. It embeds the library instead of
// using FerretDB's own main, which panics without a generated version file.
//
// FerretDB 1.x applies an update as a read, then a separate write, with
// nothing guarding the document in between, so two concurrent conditional
// updates of one document can both "succeed" and one is lost. MongoDB makes
// every single-document update atomic, and the services rely on it. So the
// clients do not talk to FerretDB directly: a small proxy in front of it
// passes one command at a time (see serialize.go).
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to accept MongoDB clients on")
	dataDir := flag.String("data", "./data/ferretdb", "directory for the SQLite databases")
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Fatal(err)
	}

	// FerretDB itself listens on a private loopback port chosen by the kernel.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	backend := probe.Addr().String()
	probe.Close()

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: backend},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go server.Run(ctx)

	front, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("ferretdb listening on %s (one command at a time), data in %s", *listen, *dataDir)
	go func() {
		<-ctx.Done()
		front.Close()
	}()
	serve(front, backend)
}
