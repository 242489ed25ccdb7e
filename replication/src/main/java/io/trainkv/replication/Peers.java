package io.trainkv.replication;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The members of a cluster as written on a command line, {@code n1=host:port,n2=host:port,...},
 * and the Raft group they form. The group id is derived from a name (default {@code trainkv}), so
 * every server and client given the same name and peers agree on it without configuration files.
 */
public final class Peers {

    /** The group name when none is given. */
    public static final String DEFAULT_GROUP = "trainkv";

    private Peers() {
    }

    /**
     * Parses {@code id=host:port,...}.
     *
     * @throws IllegalArgumentException if a member is not {@code id=host:port}, a port is not 1..65535,
     *         or an id repeats
     */
    public static List<RaftPeer> parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("no peers given (expected id=host:port,...)");
        }
        List<RaftPeer> peers = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (String member : text.split(",")) {
            String m = member.trim();
            int eq = m.indexOf('=');
            int colon = m.lastIndexOf(':');
            if (eq <= 0 || colon <= eq + 1 || colon == m.length() - 1) {
                throw new IllegalArgumentException("peer '" + m + "' is not id=host:port");
            }
            String id = m.substring(0, eq);
            int port;
            try {
                port = Integer.parseInt(m.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("peer '" + m + "' has no port number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("peer '" + m + "': port must be 1..65535");
            }
            if (!ids.add(id)) {
                throw new IllegalArgumentException("peer id " + id + " is given twice");
            }
            peers.add(RaftPeer.newBuilder().setId(id).setAddress(m.substring(eq + 1)).build());
        }
        return peers;
    }

    /** The Raft group of {@code peers} under the group name {@code name}. */
    public static RaftGroup group(String name, List<RaftPeer> peers) {
        return RaftGroup.valueOf(RaftGroupId.valueOf(UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8))), peers);
    }

    /** The port of a peer's address. */
    static int port(RaftPeer peer) {
        String address = peer.getAddress();
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }
}
