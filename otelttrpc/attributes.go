package otelttrpc

import "go.opentelemetry.io/otel/attribute"

// ttrpc-specific attributes, for which the semantic conventions define
// none.
const (
	// PeerUIDKey is the effective user id of a unix socket peer, on server
	// spans of connections whose handshaker read its credentials.
	PeerUIDKey = attribute.Key("ttrpc.peer.uid")
	// PeerGIDKey is that peer's effective group id.
	PeerGIDKey = attribute.Key("ttrpc.peer.gid")
	// PeerPIDKey is that peer's process id.
	PeerPIDKey = attribute.Key("ttrpc.peer.pid")
	// MessagesSentKey counts the messages a stream's side sent, on stream
	// spans.
	MessagesSentKey = attribute.Key("ttrpc.messages.sent")
	// MessagesReceivedKey counts the messages a stream's side received.
	MessagesReceivedKey = attribute.Key("ttrpc.messages.received")
	// MessageTypeKey is "SENT" or "RECEIVED" on a stream span's "message"
	// events.
	MessageTypeKey = attribute.Key("rpc.message.type")
	// MessageIDKey numbers a stream's messages in each direction from 1,
	// on "message" events.
	MessageIDKey = attribute.Key("rpc.message.id")
)

var (
	messageSent     = MessageTypeKey.String("SENT")
	messageReceived = MessageTypeKey.String("RECEIVED")
)
