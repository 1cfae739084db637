package main

import (
	"encoding/binary"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"time"
)

// commandLock lets one command (a request and its reply) through at a time,
// across every client connection.
var commandLock sync.Mutex

const (
	opMsg      = 2013
	moreToCome = 1 << 1
)

func serve(front net.Listener, backend string) {
	for {
		client, err := front.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Printf("accept: %v", err)
			continue
		}
		go relay(client, backend)
	}
}

// relay connects a client to FerretDB and forwards whole wire messages.
func relay(client net.Conn, backend string) {
	defer client.Close()
	var server net.Conn
	var err error
	for i := 0; i < 50; i++ { // FerretDB may still be starting
		if server, err = net.Dial("tcp", backend); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		log.Printf("backend: %v", err)
		return
	}
	defer server.Close()

	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		if err := exchange(request, server, client); err != nil {
			return
		}
	}
}

func exchange(request []byte, server, client net.Conn) error {
	commandLock.Lock()
	defer commandLock.Unlock()
	if _, err := server.Write(request); err != nil {
		return err
	}
	if expectsNoReply(request) {
		return nil
	}
	for {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if !expectsNoReply(reply) {
			return nil
		}
	}
}

// expectsNoReply: an OP_MSG with moreToCome set is not answered (requests)
// or is followed by more replies (exhaust replies).
func expectsNoReply(message []byte) bool {
	if len(message) < 20 || binary.LittleEndian.Uint32(message[12:16]) != opMsg {
		return false
	}
	return binary.LittleEndian.Uint32(message[16:20])&moreToCome != 0
}

func readMessage(conn net.Conn) ([]byte, error) {
	header := make([]byte, 4)
	if _, err := io.ReadFull(conn, header); err != nil {
		return nil, err
	}
	length := binary.LittleEndian.Uint32(header)
	if length < 16 || length > 48*1024*1024 {
		return nil, errors.New("bad message length")
	}
	message := make([]byte, length)
	copy(message, header)
	if _, err := io.ReadFull(conn, message[4:]); err != nil {
		return nil, err
	}
	return message, nil
}
