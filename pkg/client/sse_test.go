package client

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEventStreamReadsEventsAsTheSpecDefinesThem(t *testing.T) {
	stream := NewEventStream(io.NopCloser(strings.NewReader(
		": heartbeat\n\n" + // a comment alone is no event
			"event: snapshot\nid: 7\ndata: {\"a\":1}\n\n" +
			"data:{\"b\":\r\ndata: 2}\r\n\r\n" + // CRLF lines, no space after the colon, two data lines
			"retry: 1000\n\n" +
			"data: never finished\n", // no blank line: dropped at the end of the stream
	)))
	first, err := stream.Next()
	if err != nil || first.Name != "snapshot" || first.ID != "7" || string(first.Data) != `{"a":1}` {
		t.Fatalf("first: %+v, %v", first, err)
	}
	second, err := stream.Next()
	if err != nil || second.Name != "" || string(second.Data) != "{\"b\":\n2}" {
		t.Fatalf("second: %+v (%q), %v", second, second.Data, err)
	}
	if ev, err := stream.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last event: %+v, %v; want io.EOF", ev, err)
	}
}
