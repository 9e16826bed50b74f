// Preloaded (node --import) into a child process a benchmark measures but did not
// write, such as `tessera hub`: answers the message 'cpu' on the IPC channel with
// that process's own process.cpuUsage(). Plain JavaScript, so the child needs no loader.
/* global process */
if (process.send !== undefined) {
  process.on('message', (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
  });
  // the channel must not keep the child alive once it has stopped its own work
  process.channel?.unref();
}
