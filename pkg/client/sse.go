package client

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// maxEventBytes bounds one server-sent event; a runs snapshot of 10000 rows stays well below it.
const maxEventBytes = 64 << 20

// Event is one server-sent event (https://html.spec.whatwg.org/multipage/server-sent-events.html).
type Event struct {
	// Name is the event's type; empty means the default, "message".
	Name string
	ID   string
	Data []byte
}

// EventStream reads server-sent events from a response body.
type EventStream struct {
	body    io.ReadCloser
	scanner *bufio.Scanner
}

// NewEventStream reads events from r and closes it on Close.
func NewEventStream(r io.ReadCloser) *EventStream {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	return &EventStream{body: r, scanner: s}
}

// Next returns the next event with data. It returns io.EOF when the server ends the stream, or
// the read error (a closed connection, a line longer than the limit).
func (s *EventStream) Next() (*Event, error) {
	var ev Event
	var data bytes.Buffer
	hasData := false
	for s.scanner.Scan() {
		line := s.scanner.Text()
		if line == "" {
			if hasData {
				ev.Data = data.Bytes()
				return &ev, nil
			}
			ev = Event{}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment, used as a heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "event":
			ev.Name = value
		case "id":
			ev.ID = value
		}
	}
	if err := s.scanner.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

// Close ends the stream and releases the connection.
func (s *EventStream) Close() error {
	return s.body.Close()
}
