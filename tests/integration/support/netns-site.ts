/**
 * Child process for the discovery namespace test: a simulated site whose cameras listen on one
 * interface address and announce themselves there by SSDP and mDNS.
 * argv[2]: JSON { interfaceAddress, cameras: AddCameraOptions[] }. Prints one JSON line when
 * ready; exits when stdin closes.
 */
import { createSimulator, type AddCameraOptions } from '@custody/simulator';

const config = JSON.parse(process.argv[2] ?? '{}') as {
  interfaceAddress: string;
  cameras: AddCameraOptions[];
};

const simulator = await createSimulator({
  addressPool: 'ports',
  host: config.interfaceAddress,
  seed: 11,
  announce: { interfaceAddress: config.interfaceAddress, ssdp: true, mdns: true },
});
for (const camera of config.cameras) await simulator.addCamera(camera);
process.stdout.write(
  `${JSON.stringify({
    event: 'ready',
    cameras: simulator.cameras.map((camera) => ({ serial: camera.serial, url: camera.httpUrl })),
  })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => {
  simulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
