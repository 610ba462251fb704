// Preloaded (node --import) into the demo's child processes, which the web server starts with an
// IPC channel. When the web server ends without stopping them (a crash, SIGKILL) the channel
// closes, and the child stops as if it had been sent SIGTERM instead of running on orphaned.
if (process.channel) {
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The channel must not keep the child running once its own work is done.
  process.channel.unref();
}
