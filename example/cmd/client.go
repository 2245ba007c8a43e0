package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/example"
	"github.com/ttrpc-go/ttrpc/status"
)

// callAll calls every method of the example service through c, prints each
// call and its outcome to w, and checks the answers. It returns the first
// call that failed or answered something unexpected.
func callAll(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, step := range []struct {
		title string
		run   func(context.Context, io.Writer, example.ExampleClient) error
	}{
		{"unary call: Greet", greet},
		{"unary call with metadata: Greet", greetWithMetadata},
		{"unary call that fails: Greet with an empty name", greetError},
		{"server streaming: Countdown", countdown},
		{"client streaming: Sum", sum},
		{"bidirectional streaming: Chat", chat},
	} {
		fmt.Fprintf(w, "\n== %s\n", step.title)
		if err := step.run(ctx, w, c); err != nil {
			return fmt.Errorf("%s: %w", step.title, err)
		}
	}
	fmt.Fprintln(w)
	return nil
}

func greet(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	fmt.Fprintln(w, `  client: Greet(name="world")`)
	resp, err := c.Greet(ctx, &example.GreetRequest{Name: "world"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  client: got %q\n", resp.Greeting)
	return expect(resp.Greeting, "Hello, world!")
}

func greetWithMetadata(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	md := ttrpc.MD{}
	md.Set("greeting", "Bonjour")
	fmt.Fprintln(w, `  client: Greet(name="ttrpc") with metadata greeting=Bonjour`)
	resp, err := c.Greet(ttrpc.WithMetadata(ctx, md), &example.GreetRequest{Name: "ttrpc"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  client: got %q\n", resp.Greeting)
	return expect(resp.Greeting, "Bonjour, ttrpc!")
}

func greetError(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	fmt.Fprintln(w, `  client: Greet(name="")`)
	_, err := c.Greet(ctx, &example.GreetRequest{})
	if err == nil {
		return errors.New("the server accepted an empty name")
	}
	st := status.Convert(err)
	fmt.Fprintf(w, "  client: got the expected error: code=%s message=%q\n", st.Code(), st.Message())
	if st.Code() != codes.InvalidArgument {
		return fmt.Errorf("got code %s, want %s: %w", st.Code(), codes.InvalidArgument, err)
	}
	return nil
}

func countdown(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	const from = 3
	fmt.Fprintf(w, "  client: Countdown(count=%d)\n", from)
	stream, err := c.Countdown(ctx, &example.CountdownRequest{Count: from})
	if err != nil {
		return err
	}
	var got []string
	for {
		tick, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  client: tick %d\n", tick.Remaining)
		got = append(got, fmt.Sprint(tick.Remaining))
	}
	fmt.Fprintln(w, "  client: end of stream")
	return expect(strings.Join(got, ","), "3,2,1")
}

func sum(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	stream, err := c.Sum(ctx)
	if err != nil {
		return err
	}
	for _, v := range []int64{1, 2, 3, 4, 5} {
		fmt.Fprintf(w, "  client: send %d\n", v)
		if err := stream.Send(&example.Number{Value: v}); err != nil {
			return err
		}
	}
	total, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  client: total %d over %d numbers\n", total.Sum, total.Count)
	return expect(fmt.Sprint(total.Sum, "/", total.Count), "15/5")
}

func chat(ctx context.Context, w io.Writer, c example.ExampleClient) error {
	stream, err := c.Chat(ctx)
	if err != nil {
		return err
	}
	// Send and receive in turn: every message gets its answer before the
	// next one is sent.
	for _, text := range []string{"hello", "how are you?"} {
		fmt.Fprintf(w, "  client: say %q\n", text)
		if err := stream.Send(&example.ChatMessage{From: "client", Text: text}); err != nil {
			return err
		}
		reply, err := stream.Recv()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  client: %s replied %q tags=%v\n", reply.From, reply.Text, reply.Tags)
		if err := expect(reply.Text, strings.ToUpper(text)); err != nil {
			return err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("after CloseSend: got %v, want io.EOF", err)
	}
	fmt.Fprintln(w, "  client: closed its side, server ended the stream")
	return nil
}

func expect(got, want string) error {
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}
