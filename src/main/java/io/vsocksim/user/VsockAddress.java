package io.vsocksim.user;

import io.vsocksim.uapi.SockaddrVm;
import io.vsocksim.uapi.VmSockets;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Locale;

/**
 * An AF_VSOCK socket address for Java code: a context ID (CID) and a port, both unsigned 32-bit
 * values held in {@code int}s ({@code -1} is 4294967295, the "any" wildcard of each).
 *
 * <p>The factories follow the names users already know: {@link #ofPortAndCID} as junixsocket's
 * {@code AFVSOCKSocketAddress}, {@link #of(int, int)} in Netty's {@code VSockAddress(cid, port)} order, and
 * {@link #ofHostPort}, {@link #ofLocalPort}, {@link #ofHypervisorPort}, {@link #ofAnyPort} for the
 * well-known CIDs.
 *
 * <p>Text form, as {@link #toString()} writes it and {@link #parse} reads it: {@code vsock://CID:PORT},
 * with CID and PORT in decimal or as the names {@code any}, {@code hypervisor}, {@code local} and
 * {@code host} (CID) and {@code any} (port); {@link #parse} also accepts the bare {@code CID:PORT}.
 * The URI form ({@link #toURI}, {@link #of(URI)}) is the same text. Two addresses are equal when CID
 * and port are equal.
 */
public final class VsockAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;

    /** URI scheme of the text form. */
    public static final String SCHEME = "vsock";

    /** {@code VMADDR_CID_ANY} (4294967295): bind to every CID of the machine. */
    public static final int CID_ANY = VmSockets.VMADDR_CID_ANY;
    /** {@code VMADDR_CID_HYPERVISOR} (0). */
    public static final int CID_HYPERVISOR = VmSockets.VMADDR_CID_HYPERVISOR;
    /** {@code VMADDR_CID_LOCAL} (1): the machine itself, over the loopback transport. */
    public static final int CID_LOCAL = VmSockets.VMADDR_CID_LOCAL;
    /** {@code VMADDR_CID_HOST} (2): the host, as a guest reaches it. */
    public static final int CID_HOST = VmSockets.VMADDR_CID_HOST;
    /** {@code VMADDR_PORT_ANY} (4294967295): let bind or connect pick a free port. */
    public static final int PORT_ANY = VmSockets.VMADDR_PORT_ANY;

    private final int cid;
    private final int port;

    private VsockAddress(int cid, int port) {
        this.cid = cid;
        this.port = port;
    }

    /** The address ({@code cid}, {@code port}): Netty's {@code VSockAddress(cid, port)} order. */
    public static VsockAddress of(int cid, int port) {
        return new VsockAddress(cid, port);
    }

    /** The address ({@code cid}, {@code port}): junixsocket's {@code ofPortAndCID(port, cid)} order. */
    public static VsockAddress ofPortAndCID(int port, int cid) {
        return new VsockAddress(cid, port);
    }

    /** {@code port} on the host (CID 2). */
    public static VsockAddress ofHostPort(int port) {
        return new VsockAddress(CID_HOST, port);
    }

    /** {@code port} on this machine over loopback (CID 1). */
    public static VsockAddress ofLocalPort(int port) {
        return new VsockAddress(CID_LOCAL, port);
    }

    /** {@code port} on the hypervisor (CID 0). */
    public static VsockAddress ofHypervisorPort(int port) {
        return new VsockAddress(CID_HYPERVISOR, port);
    }

    /** {@code port} on any CID: the usual address to bind a server to. */
    public static VsockAddress ofAnyCIDPort(int port) {
        return new VsockAddress(CID_ANY, port);
    }

    /** Any CID, any port: bind picks a free port. */
    public static VsockAddress ofAnyPort() {
        return new VsockAddress(CID_ANY, PORT_ANY);
    }

    /** The address of a kernel {@code struct sockaddr_vm} (its flags are not kept). */
    public static VsockAddress of(SockaddrVm sa) {
        return new VsockAddress(sa.cid(), sa.port());
    }

    /** This address as {@code struct sockaddr_vm}, without flags. */
    public SockaddrVm toSockaddr() {
        return new SockaddrVm(cid, port);
    }

    /** The CID as the u32 it is, held in an {@code int} ({@link #CID_ANY} is {@code -1}). */
    public int cid() {
        return cid;
    }

    /** The port as the u32 it is, held in an {@code int} ({@link #PORT_ANY} is {@code -1}). */
    public int port() {
        return port;
    }

    /** The CID as a non-negative number (4294967295 for {@link #CID_ANY}). */
    public long cidUnsigned() {
        return Integer.toUnsignedLong(cid);
    }

    /** The port as a non-negative number (4294967295 for {@link #PORT_ANY}). */
    public long portUnsigned() {
        return Integer.toUnsignedLong(port);
    }

    /**
     * Reads the text form: {@code vsock://CID:PORT} or {@code CID:PORT}, each part a u32 in decimal
     * or one of the names of the class comment (case does not matter).
     *
     * @throws IllegalArgumentException for any other text, with the reason
     */
    public static VsockAddress parse(String text) {
        String s = text.strip();
        String prefix = SCHEME + "://";
        if (s.regionMatches(true, 0, prefix, 0, prefix.length())) {
            s = s.substring(prefix.length());
        }
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not a vsock address (expected CID:PORT): \"" + text + "\"");
        }
        return new VsockAddress(parseCid(s.substring(0, colon), text), parsePort(s.substring(colon + 1), text));
    }

    /** The address of a {@code vsock://CID:PORT} URI. @throws IllegalArgumentException for another URI */
    public static VsockAddress of(URI uri) {
        if (!SCHEME.equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("not a vsock URI: " + uri);
        }
        return parse(uri.toString());
    }

    /** {@code vsock://CID:PORT}, as {@link #toString()}. */
    public URI toURI() {
        return URI.create(toString());
    }

    private static int parseCid(String part, String text) {
        switch (part.toLowerCase(Locale.ROOT)) {
            case "any":
                return CID_ANY;
            case "hypervisor":
                return CID_HYPERVISOR;
            case "local":
                return CID_LOCAL;
            case "host":
                return CID_HOST;
            default:
                return parseU32(part, "CID", text);
        }
    }

    private static int parsePort(String part, String text) {
        return "any".equalsIgnoreCase(part) ? PORT_ANY : parseU32(part, "port", text);
    }

    private static int parseU32(String part, String what, String text) {
        try {
            return Integer.parseUnsignedInt(part);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " \"" + part + "\" is not a u32 in \"" + text + "\"", e);
        }
    }

    private static String cidText(int cid) {
        return cid == CID_ANY ? "any" : Integer.toUnsignedString(cid);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VsockAddress a && a.cid == cid && a.port == port;
    }

    @Override
    public int hashCode() {
        return 31 * cid + port;
    }

    /** {@code vsock://CID:PORT}; the wildcards print as {@code any}. */
    @Override
    public String toString() {
        return SCHEME + "://" + cidText(cid) + ":" + (port == PORT_ANY ? "any" : Integer.toUnsignedString(port));
    }
}
