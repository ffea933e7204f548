/**
 * The receiving end of the bench's relay floor (f): connects, reads until the server ends the
 * connection, prints `{"bytes":N}`. Its own process, as the POP3 clients are, so its CPU is not
 * counted as the relay's.
 *
 * Usage: node dist/bench/clients/byte-sink.js HOST PORT
 */
import { connect } from 'node:net';

const [host, port] = process.argv.slice(2);
if (host === undefined || port === undefined) {
  process.stderr.write('usage: byte-sink HOST PORT\n');
  process.exit(2);
}
let bytes = 0;
const socket = connect(Number(port), host);
socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
socket.on('end', () => process.stdout.write(`${JSON.stringify({ bytes })}\n`));
socket.on('error', (err) => {
  process.stderr.write(`byte-sink: ${err.message}\n`);
  process.exit(1);
});
