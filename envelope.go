package ttrpc

import (
	"errors"
	"fmt"
	"unsafe"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The Request and Response envelopes are encoded and decoded by hand on the
// hot path: the generated types stay the API, but building frames through
// them would cost reflection and a copy of every payload. Field numbers are
// those of types.proto (PROTOCOL.md, "Envelopes").

const (
	fieldRequestService     protowire.Number = 1
	fieldRequestMethod      protowire.Number = 2
	fieldRequestPayload     protowire.Number = 3
	fieldRequestTimeoutNano protowire.Number = 4
	fieldRequestMetadata    protowire.Number = 5

	fieldResponseStatus  protowire.Number = 1
	fieldResponsePayload protowire.Number = 2

	fieldKeyValueKey   protowire.Number = 1
	fieldKeyValueValue protowire.Number = 2
)

// errMalformedEnvelope is wrapped by every envelope decoding error.
var errMalformedEnvelope = errors.New("malformed envelope")

// requestSize is the encoded size of r without its payload field's bytes
// counted twice; payloadLen is the payload's encoded length.
func requestEnvelopeSize(service, method string, payloadLen int, timeoutNano int64, md []*KeyValue) int {
	n := 0
	if service != "" {
		n += protowire.SizeTag(fieldRequestService) + protowire.SizeBytes(len(service))
	}
	if method != "" {
		n += protowire.SizeTag(fieldRequestMethod) + protowire.SizeBytes(len(method))
	}
	if payloadLen > 0 {
		n += protowire.SizeTag(fieldRequestPayload) + protowire.SizeBytes(payloadLen)
	}
	if timeoutNano != 0 {
		n += protowire.SizeTag(fieldRequestTimeoutNano) + protowire.SizeVarint(uint64(timeoutNano))
	}
	for _, kv := range md {
		n += protowire.SizeTag(fieldRequestMetadata) + protowire.SizeBytes(keyValueSize(kv))
	}
	return n
}

func keyValueSize(kv *KeyValue) int {
	n := 0
	if kv.Key != "" {
		n += protowire.SizeTag(fieldKeyValueKey) + protowire.SizeBytes(len(kv.Key))
	}
	if kv.Value != "" {
		n += protowire.SizeTag(fieldKeyValueValue) + protowire.SizeBytes(len(kv.Value))
	}
	return n
}

// appendRequest appends r's encoding, field by field in number order as
// protobuf-go would, so the bytes match proto.Marshal(r).
func appendRequest(b []byte, r *Request) []byte {
	if r.Service != "" {
		b = protowire.AppendTag(b, fieldRequestService, protowire.BytesType)
		b = protowire.AppendString(b, r.Service)
	}
	if r.Method != "" {
		b = protowire.AppendTag(b, fieldRequestMethod, protowire.BytesType)
		b = protowire.AppendString(b, r.Method)
	}
	if len(r.Payload) > 0 {
		b = protowire.AppendTag(b, fieldRequestPayload, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Payload)
	}
	if r.TimeoutNano != 0 {
		b = protowire.AppendTag(b, fieldRequestTimeoutNano, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(r.TimeoutNano))
	}
	for _, kv := range r.Metadata {
		b = protowire.AppendTag(b, fieldRequestMetadata, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(keyValueSize(kv)))
		if kv.Key != "" {
			b = protowire.AppendTag(b, fieldKeyValueKey, protowire.BytesType)
			b = protowire.AppendString(b, kv.Key)
		}
		if kv.Value != "" {
			b = protowire.AppendTag(b, fieldKeyValueValue, protowire.BytesType)
			b = protowire.AppendString(b, kv.Value)
		}
	}
	return b
}

// requestView is a decoded Request whose byte fields alias the frame body:
// it is valid only while that body is.
type requestView struct {
	service     []byte
	method      []byte
	payload     []byte
	hasPayload  bool
	timeoutNano int64
	hasMetadata bool // metadata fields are present; copyRequestMetadata reads them
}

// decodeRequest parses a Request envelope but its metadata, which is only
// checked for well-formedness (copyRequestMetadata copies it, once the
// method is known to exist). Unknown fields are skipped as protobuf
// requires; a later occurrence of a field wins.
func decodeRequest(b []byte, v *requestView) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		var n int
		switch {
		case num == fieldRequestService && typ == protowire.BytesType:
			v.service, n = protowire.ConsumeBytes(b)
		case num == fieldRequestMethod && typ == protowire.BytesType:
			v.method, n = protowire.ConsumeBytes(b)
		case num == fieldRequestPayload && typ == protowire.BytesType:
			v.payload, n = protowire.ConsumeBytes(b)
			v.hasPayload = true
		case num == fieldRequestTimeoutNano && typ == protowire.VarintType:
			var t uint64
			t, n = protowire.ConsumeVarint(b)
			v.timeoutNano = int64(t)
		case num == fieldRequestMetadata && typ == protowire.BytesType:
			var kv []byte
			if kv, n = protowire.ConsumeBytes(b); n >= 0 {
				v.hasMetadata = true
				return n, checkKeyValue(kv)
			}
		default:
			return skipField, nil
		}
		return n, nil
	})
}

// metadataEntryCost is what one decoded metadata value costs in memory
// beyond its bytes (map entry, slice and string headers), used to bound
// the decoded size of a request's metadata.
const metadataEntryCost = 96

// errMetadataTooLarge refuses a request whose metadata would take far more
// memory decoded than on the wire (many tiny entries).
var errMetadataTooLarge = errors.New("request metadata too large once decoded")

// copyRequestMetadata copies the metadata entries of a well-formed Request
// envelope out of b, in one allocation: each KeyValue message behind its
// length, in wire order (the form eachKeyValue reads). Nothing writes the
// copy again, so strings may alias it. The size the entries take once
// decoded is bounded by eight times the envelope's size plus 64 KiB, which
// no real caller comes near but a flood of empty entries does.
func copyRequestMetadata(b []byte) ([]byte, error) {
	budget := 8*len(b) + 64<<10
	size := 0
	err := walkMetadata(b, func(entry, _ []byte) error {
		budget -= len(entry) + metadataEntryCost
		if budget < 0 {
			return errMetadataTooLarge
		}
		size += len(entry)
		return nil
	})
	if err != nil || size == 0 {
		return nil, err
	}
	raw := make([]byte, 0, size)
	_ = walkMetadata(b, func(entry, _ []byte) error {
		raw = append(raw, entry...)
		return nil
	})
	return raw, nil
}

// walkMetadata calls visit with every metadata field of the Request
// envelope in b: entry is the field's length-prefixed value, kv the
// KeyValue message in it.
func walkMetadata(b []byte, visit func(entry, kv []byte) error) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != fieldRequestMetadata || typ != protowire.BytesType {
			return skipField, nil
		}
		kv, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return n, nil
		}
		return n, visit(b[:n], kv)
	})
}

// eachKeyValue calls f with the key and value of every entry of raw, as
// copyRequestMetadata made it, in order, until f returns false. The strings
// alias raw; keys are kept as sent.
func eachKeyValue(raw []byte, f func(key, value string) bool) {
	for len(raw) > 0 {
		kv, n := protowire.ConsumeBytes(raw)
		if n < 0 {
			return // not made by copyRequestMetadata
		}
		raw = raw[n:]
		key, value := keyValueSpans(kv)
		if !f(aliasString(kv[key[0]:key[1]]), aliasString(kv[value[0]:value[1]])) {
			return
		}
	}
}

// decodeMetadata builds the MD of raw (nil when raw holds no entry).
func decodeMetadata(raw []byte) MD {
	if len(raw) == 0 {
		return nil
	}
	md := MD{}
	eachKeyValue(raw, func(key, value string) bool {
		md[key] = append(md[key], value)
		return true
	})
	return md
}

// decodeRequestMetadata decodes the metadata of a well-formed Request
// envelope into an MD (copyRequestMetadata, then decodeMetadata).
func decodeRequestMetadata(b []byte) (MD, error) {
	raw, err := copyRequestMetadata(b)
	if err != nil {
		return nil, err
	}
	return decodeMetadata(raw), nil
}

// checkKeyValue checks that b is a well-formed KeyValue message.
func checkKeyValue(b []byte) error {
	return walkFields(b, func(protowire.Number, protowire.Type, []byte) (int, error) {
		return skipField, nil
	})
}

// keyValueSpans finds the key and the value of the well-formed KeyValue
// message in b, as [start, end) offsets in b (empty when absent; a later
// occurrence of a field wins).
func keyValueSpans(b []byte) (key, value [2]int) {
	whole := len(b)
	_ = walkFields(b, func(num protowire.Number, typ protowire.Type, rest []byte) (int, error) {
		var field *[2]int
		switch {
		case num == fieldKeyValueKey && typ == protowire.BytesType:
			field = &key
		case num == fieldKeyValueValue && typ == protowire.BytesType:
			field = &value
		default:
			return skipField, nil
		}
		v, n := protowire.ConsumeBytes(rest)
		if n >= 0 {
			start := whole - len(rest) + n - len(v)
			*field = [2]int{start, start + len(v)}
		}
		return n, nil
	})
	return key, value
}

// aliasString returns the bytes of b as a string without copying them: b
// must never be written again.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// skipField is what a walkFields visitor returns for a field it does not
// know: walkFields skips its value.
const skipField = -1 << 30

// walkFields calls visit for every field of the message in b, with the rest
// of the message starting at the field's value. visit returns how many
// bytes the value took (negative: a protowire parse error), or skipField.
func walkFields(b []byte, visit func(protowire.Number, protowire.Type, []byte) (int, error)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if err := checkTag(num, n); err != nil {
			return err
		}
		b = b[n:]
		n, err := visit(num, typ, b)
		if err != nil {
			return err
		}
		if n == skipField {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return malformed(n)
		}
		b = b[n:]
	}
	return nil
}

// checkTag checks what protowire.ConsumeTag returned, including the field
// number range protobuf-go enforces (ConsumeTag accepts numbers up to
// 2^31-1), so that these decoders refuse exactly what proto.Unmarshal does.
func checkTag(num protowire.Number, n int) error {
	if n < 0 {
		return malformed(n)
	}
	if num > protowire.MaxValidNumber {
		return fmt.Errorf("%w: invalid field number %d", errMalformedEnvelope, num)
	}
	return nil
}

func malformed(n int) error {
	return fmt.Errorf("%w: %v", errMalformedEnvelope, protowire.ParseError(n))
}

// appendResponse appends a Response envelope. A nil or OK status is left out,
// as containerd/ttrpc servers do on success.
func appendResponse(b []byte, st *spb.Status, payload []byte) ([]byte, error) {
	if st != nil && (st.Code != 0 || st.Message != "" || len(st.Details) > 0) {
		size := proto.Size(st)
		b = protowire.AppendTag(b, fieldResponseStatus, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		var err error
		if b, err = (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend(b, st); err != nil {
			return b, err
		}
	}
	if len(payload) > 0 {
		b = protowire.AppendTag(b, fieldResponsePayload, protowire.BytesType)
		b = protowire.AppendBytes(b, payload)
	}
	return b, nil
}

// responseView is a decoded Response whose payload aliases the frame body.
type responseView struct {
	status  *spb.Status // nil when absent
	payload []byte
}

func decodeResponse(b []byte, v *responseView) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		var n int
		switch {
		case num == fieldResponseStatus && typ == protowire.BytesType:
			var raw []byte
			if raw, n = protowire.ConsumeBytes(b); n >= 0 {
				// A message field sent more than once is merged, as
				// protobuf requires: a later occurrence does not reset the
				// code an earlier one set.
				if v.status == nil {
					v.status = &spb.Status{}
				}
				if err := decodeStatus(raw, v.status); err != nil {
					return 0, err
				}
			}
		case num == fieldResponsePayload && typ == protowire.BytesType:
			v.payload, n = protowire.ConsumeBytes(b)
		default:
			return skipField, nil
		}
		return n, nil
	})
}

// Field numbers of google.rpc.Status.
const (
	fieldStatusCode    protowire.Number = 1
	fieldStatusMessage protowire.Number = 2
	fieldStatusDetails protowire.Number = 3
)

// maxDenseDetails is how many details a status may carry whatever their
// size; beyond it, details must average 32 wire bytes each (a real detail,
// an Any with a type URL, takes more).
const maxDenseDetails = 64

// decodeStatus merges a google.rpc.Status into st. Decoding a detail costs
// far more memory than its wire bytes when it is empty, so a status with
// more details than its size can justify keeps its code and message and
// drops its details, bounding what a peer can make this side allocate.
func decodeStatus(raw []byte, st *spb.Status) error {
	details := 0
	err := walkFields(raw, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num == fieldStatusDetails {
			details++
		}
		return skipField, nil
	})
	if err != nil {
		return fmt.Errorf("%w: status: %v", errMalformedEnvelope, err)
	}
	if details <= maxDenseDetails || details <= len(raw)/32 {
		if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(raw, st); err != nil {
			return fmt.Errorf("%w: status: %v", errMalformedEnvelope, err)
		}
		return nil
	}
	return walkFields(raw, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		var n int
		switch {
		case num == fieldStatusCode && typ == protowire.VarintType:
			var c uint64
			c, n = protowire.ConsumeVarint(b)
			st.Code = int32(c)
		case num == fieldStatusMessage && typ == protowire.BytesType:
			var m []byte
			m, n = protowire.ConsumeBytes(b)
			st.Message = string(m)
		default:
			return skipField, nil
		}
		return n, nil
	})
}
