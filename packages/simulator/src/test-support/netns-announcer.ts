/**
 * Child process for the SSDP/mDNS namespace test: a simulator announcing on one interface.
 * argv[2]: JSON { interfaceAddress, cameras: AddCameraOptions[] }.
 * stdin commands: "remove <serial>". Prints one JSON object per line.
 */
import { createInterface } from 'node:readline';
import { createSimulator } from '../simulator.ts';
import type { AddCameraOptions } from '../simulated-camera.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as {
  interfaceAddress: string;
  cameras: AddCameraOptions[];
};
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const simulator = await createSimulator({
  addressPool: 'loopback-ips',
  addressBase: '127.88.0.1',
  seed: 5,
  announce: { interfaceAddress: config.interfaceAddress },
});
for (const camera of config.cameras) await simulator.addCamera(camera);
print({
  event: 'ready',
  cameras: simulator.cameras.map((camera) => ({
    serial: camera.serial,
    address: camera.address,
    httpPort: camera.currentEndpoint?.httpPort,
    upnpPort: camera.currentEndpoint?.upnpPort,
  })),
});

const stop = () => {
  simulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, serial = ''] = line.trim().split(' ');
  if (command === 'remove') {
    void simulator
      .removeCamera(serial)
      .then((removed) => print({ event: 'removed', serial, removed }));
  }
});
lines.on('close', stop);
