package ttrpc

import ttrpcgo "github.com/ttrpc-go/ttrpc"

// UnixCredentialsFunc checks the credentials of a unix socket peer; used as
// a Handshaker it refuses connections for which it returns an error.
type UnixCredentialsFunc = ttrpcgo.UnixCredentialsFunc

// UnixSocketRequireUidGid accepts peers with this uid and gid (-1 matches
// any); others are refused with an error naming the mismatch.
func UnixSocketRequireUidGid(uid, gid int) UnixCredentialsFunc {
	return ttrpcgo.UnixSocketRequireUidGid(uid, gid)
}

// UnixSocketRequireRoot accepts only peers running as root (uid and gid 0).
func UnixSocketRequireRoot() UnixCredentialsFunc { return ttrpcgo.UnixSocketRequireRoot() }

// UnixSocketRequireSameUser accepts only peers running with this process's
// effective uid and gid.
func UnixSocketRequireSameUser() UnixCredentialsFunc { return ttrpcgo.UnixSocketRequireSameUser() }
