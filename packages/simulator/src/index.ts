export { createSimulator } from './simulator.ts';
export type { AnnounceOptions, Simulator, SimulatorOptions } from './simulator.ts';
export { BUTTON_RESET_HOLD_MS, CAMERA_FAULTS, SimulatedCamera } from './simulated-camera.ts';
export type {
  AddCameraOptions,
  AnswerFault,
  CameraControl,
  CameraFault,
  CameraPhase,
  CameraStateSnapshot,
  CameraStats,
  CameraUserInput,
  LedState,
} from './simulated-camera.ts';
export { FIRMWARE_IDS, FIRMWARE_PROFILES, isFirmwareId } from './firmware-profiles.ts';
export type { FirmwareId, FirmwareProfile } from './firmware-profiles.ts';
export { createScaledClock } from './clock.ts';
export type { SimulatorClock } from './clock.ts';
export type { Role } from './user-accounts.ts';
export { SiteSchema, parseSite, startSite } from './site.ts';
export type { Site } from './site.ts';
