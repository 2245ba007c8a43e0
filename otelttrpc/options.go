package otelttrpc

import "github.com/ttrpc-go/ttrpc"

// ClientOptions returns the options that instrument a client: its unary
// calls and streams, and the calls its server makes back to the services
// it registered (client-side handlers are traced as servers). Pass them to
// ttrpc.NewClient, after any WithUnaryClientInterceptor or
// WithStreamClientInterceptor of your own (those replace what was set
// before them).
func ClientOptions(opts ...Option) []ttrpc.ClientOpts {
	o := newOptions(opts)
	client, server := newInstruments(o, sideClient), newInstruments(o, sideServer)
	return []ttrpc.ClientOpts{
		ttrpc.WithChainUnaryClientInterceptor(client.unaryClient),
		ttrpc.WithChainStreamClientInterceptor(client.streamClient),
		ttrpc.WithClientServerOpts(serverInterceptors(server)...),
	}
}

// ServerOptions returns the options that instrument a server: the calls
// and streams it handles, and the calls its handlers make back to their
// callers through ttrpc.PeerClient. Pass them to ttrpc.NewServer, after any
// WithUnaryServerInterceptor or WithStreamServerInterceptor of your own
// (those refuse to follow chained interceptors).
func ServerOptions(opts ...Option) []ttrpc.ServerOpt {
	o := newOptions(opts)
	client, server := newInstruments(o, sideClient), newInstruments(o, sideServer)
	return append(serverInterceptors(server),
		ttrpc.WithPeerClientOpts(
			ttrpc.WithChainUnaryClientInterceptor(client.unaryClient),
			ttrpc.WithChainStreamClientInterceptor(client.streamClient),
		))
}

func serverInterceptors(in *instruments) []ttrpc.ServerOpt {
	return []ttrpc.ServerOpt{
		ttrpc.WithChainUnaryServerInterceptor(in.unaryServer),
		ttrpc.WithChainStreamServerInterceptor(in.streamServer),
	}
}
