/**
 * Child process for the SSDP/mDNS namespace test: listens for SSDP and mDNS on one interface
 * and sends searches on request. argv[2]: the interface address.
 * stdin commands: "msearch <ST>", "mdns-query <name>". Prints one JSON object per line.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { DNS_TYPE, decodeDnsMessage, encodeDnsMessage } from '../dns-message.ts';

const interfaceAddress = process.argv[2] ?? '';
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function joinGroup(group: string, port: number, kind: string): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind({ port, address: group }, resolve));
  socket.addMembership(group, interfaceAddress);
  socket.setMulticastInterface(interfaceAddress);
  socket.on('message', (message, remote) => report(kind, message, remote.address, remote.port));
  return socket;
}

function report(kind: string, message: Buffer, from: string, port: number): void {
  if (kind.startsWith('mdns')) {
    try {
      print({ kind, from, port, message: decodeDnsMessage(message) });
    } catch (error) {
      print({ kind, from, port, error: String(error) });
    }
    return;
  }
  print({ kind, from, port, text: message.toString('utf8') });
}

await joinGroup('239.255.255.250', 1900, 'ssdp');
const mdns = await joinGroup('224.0.0.251', 5353, 'mdns');
const unicast = createSocket('udp4');
await new Promise<void>((resolve) => unicast.bind({ port: 0, address: interfaceAddress }, resolve));
unicast.setMulticastInterface(interfaceAddress);
unicast.on('message', (message, remote) => {
  const text = message.toString('latin1');
  report(
    text.startsWith('HTTP/1.1') ? 'ssdp-reply' : 'mdns-unicast',
    message,
    remote.address,
    remote.port,
  );
});
print({ event: 'listening' });

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, argument = ''] = line.trim().split(' ');
  if (command === 'msearch') {
    const search = `M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\nST:${argument}\r\nMan:"ssdp:discover"\r\nMX:1\r\n\r\n`;
    unicast.send(search, 1900, '239.255.255.250');
  }
  if (command === 'mdns-query') {
    const question = { name: argument, type: DNS_TYPE.PTR, unicastResponse: false };
    mdns.send(encodeDnsMessage({ questions: [question] }), 5353, '224.0.0.251');
  }
  if (command === 'mdns-legacy-query') {
    const question = { name: argument, type: DNS_TYPE.PTR, unicastResponse: false };
    unicast.send(encodeDnsMessage({ id: 4242, questions: [question] }), 5353, '224.0.0.251');
  }
});
lines.on('close', () => process.exit(0));
