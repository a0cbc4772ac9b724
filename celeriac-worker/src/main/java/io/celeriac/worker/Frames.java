package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The parent–child protocol of the process pool: frames of a 4-byte marker, a 4-byte big-endian
 * length and that many bytes of UTF-8 JSON, then a 4-byte length of a payload (-1: none) and that
 * many bytes of UTF-8 text, over the child's stdin (parent → child) and stdout (child → parent).
 * The payload (a task's envelope, as the broker delivered it) travels as it is, not escaped into
 * the JSON; the reader puts it back as the frame's {@code payload} field. The child points {@code System.out} at stderr, but the JVM itself and native
 * code can still write to its stdout (a JVM warning, say); the marker lets the reader skip such
 * bytes, and hand them to the log, instead of taking them for a frame.
 *
 * <pre>
 * parent → child  {"op":"init","settings":{…},"index":n}   once, first
 *                 {"op":"run","soft_ms":n} + payload: the envelope
 *                 {"op":"recycle"}                          drop the app, load it afresh (worker_max_tasks_per_child)
 *                 {"op":"exit"}                             retire when idle
 * child → parent  {"op":"ready","pid":n}                    app loaded, waiting for work
 *                 {"op":"state","state":"PROGRESS","meta":…}  0..n while it runs: STARTED, updateState
 *                 {"op":"success","value":…} | {"op":"failure","exc":{…}} | {"op":"retry","eta":"…","exc":{…}|null}
 *                 {"op":"recycled","generation":n,"ms":n,"stray_threads":[…]}  the app loaded afresh
 * </pre>
 */
final class Frames {
    /** A frame larger than this is a corrupt stream, not a message (payloads are far smaller). */
    static final int MAX_FRAME = 512 * 1024 * 1024;

    /** "CLRC": starts every frame. */
    static final int MARKER = 0x434C5243;

    private Frames() {
    }

    static void write(DataOutputStream out, ObjectNode frame) throws IOException {
        write(out, frame, null);
    }

    static void write(DataOutputStream out, ObjectNode frame, String payload) throws IOException {
        byte[] bytes = Json.write(frame).getBytes(StandardCharsets.UTF_8);
        out.writeInt(MARKER);
        out.writeInt(bytes.length);
        out.write(bytes);
        if (payload == null) {
            out.writeInt(-1);
        } else {
            byte[] p = payload.getBytes(StandardCharsets.UTF_8);
            out.writeInt(p.length);
            out.write(p);
        }
        out.flush();
    }

    /** The next frame, or null at end of stream (the other side exited). Stray bytes go to {@code stray}. */
    static ObjectNode read(DataInputStream in) throws IOException {
        return read(in, text -> { });
    }

    static ObjectNode read(DataInputStream in, java.util.function.Consumer<String> stray) throws IOException {
        int len;
        try {
            int window = in.readInt();
            if (window != MARKER) {
                java.io.ByteArrayOutputStream skipped = new java.io.ByteArrayOutputStream();
                while (window != MARKER) {
                    skipped.write(window >>> 24);
                    window = (window << 8) | in.readUnsignedByte();
                }
                stray.accept(skipped.toString(StandardCharsets.UTF_8).strip());
            }
            len = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (len < 0 || len > MAX_FRAME) {
            throw new IOException("corrupt frame: length " + len);
        }
        byte[] bytes = new byte[len];
        in.readFully(bytes);
        JsonNode n = Json.read(bytes);
        if (!(n instanceof ObjectNode o)) {
            throw new IOException("corrupt frame: not a JSON object");
        }
        int plen = in.readInt();
        if (plen > MAX_FRAME || plen < -1) {
            throw new IOException("corrupt frame: payload length " + plen);
        }
        if (plen >= 0) {
            byte[] p = new byte[plen];
            in.readFully(p);
            o.put("payload", new String(p, StandardCharsets.UTF_8));
        }
        return o;
    }
}
