'use strict'

// The command's files: the input (a FILE or standard input) and the checks that keep a run from
// destroying or endlessly re-reading its own input.
//
// * A run that writes to the file it reads would never end (`sluice f >> f` reads its own output
//   forever): refused as GNU cat does, when the output is the same regular file and is ahead of
//   the input (opened for appending, or positioned after the input's offset).
// * `--invalid-log` naming the input (by any path: a symlink, or the file stdin was redirected
//   from) would be emptied by opening the log before a byte was read: refused before the log is
//   opened. The same for a log that is standard output (its file, or /dev/stdout on a pipe or a
//   terminal: the records would be mixed into the data), unless both are /dev/null.
// Files are compared by device and inode (fstat of the open descriptor, stat of the log's path).

const fs = require('node:fs')
const { UsageError } = require('./args.js')
const { printable } = require('./progress.js')

const STDIN = 0
const STDOUT = 1

/** An error about the run's files (exit 1, as cat). */
class InputError extends Error {}

/**
 * The input: `{ stream, size, name, stat }`. `size` is null unless known (a regular file that
 * reports a size: /proc files report 0); `stat` is the descriptor's fstat, or null.
 */
// Files are read 256 KiB at a time, not the stream default of 64 KiB: each read is a libuv
// request and each chunk a hand-off to the parser's worker, and fewer of them made
// `--ndjson --where` on 100 MB of GitHub events ~1.3x faster (bench:filter --chunk-kib 256).
const READ_BYTES = 256 * 1024

function openInput (file) {
  if (file === null) {
    const stat = fstatOrNull(STDIN)
    if (stat?.isDirectory()) throw new InputError('cannot read standard input: it is a directory')
    // A file redirected at an offset (a script that read part of it first): what is left of it.
    const at = position(STDIN)
    return { stream: process.stdin, size: knownSize(stat, at ?? 0), name: 'standard input', stat, position: at }
  }
  let fd
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    throw new InputError(`cannot open ${file}: ${err.code === 'ENOENT' ? 'no such file' : systemMessage(err)}`)
  }
  const stat = fs.fstatSync(fd)
  if (stat.isDirectory()) {
    fs.closeSync(fd)
    throw new InputError(`cannot read ${file}: it is a directory`)
  }
  return { stream: fs.createReadStream(file, { fd, highWaterMark: READ_BYTES }), size: knownSize(stat), name: file, stat, position: 0 }
}

/**
 * A system error's message without the `, open '<path>'` Node appends: the command's message
 * names the file already (`cannot open X: EACCES: permission denied`, as cat says it).
 */
function systemMessage (err) {
  if (typeof err.path !== 'string' || typeof err.syscall !== 'string') return err.message
  return err.message.replace(`, ${err.syscall} '${err.path}'`, '')
}

/** What is left of a regular file to read from `from`, or null: unknown (or nothing left). */
function knownSize (stat, from = 0) {
  return stat !== null && stat.isFile() && stat.size > from ? stat.size - from : null
}

function fstatOrNull (fd) {
  try {
    return fs.fstatSync(fd)
  } catch {
    return null
  }
}

function statOrNull (path) {
  try {
    return fs.statSync(path)
  } catch {
    return null
  }
}

function sameFile (a, b) {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino
}

/**
 * Throws an InputError when standard output is the input file and writing it would feed the
 * reading forever (cat's "input file is output file").
 */
function checkOutput (input) {
  const output = fstatOrNull(STDOUT)
  if (input.stat === null || !input.stat.isFile() || !sameFile(input.stat, output)) return
  const info = fdInfo(STDOUT)
  // Without /proc (not Linux), as older cat: refused unless the input is already at its end.
  const exhausting = info === null
    ? input.position === null || input.position < input.stat.size
    : (info.flags & fs.constants.O_APPEND) !== 0 || input.position === null || input.position < info.pos
  if (exhausting) throw new InputError(`${input.name}: input file is output file`)
}

/** Throws a UsageError when the log's path is the input's file or standard output's. */
function checkInvalidLog (path, input) {
  const log = statOrNull(path)
  if (log === null) return // no such file yet (or not reachable: opening it says why)
  if (sameFile(log, input.stat)) {
    throw new UsageError(`--invalid-log: ${printable(path)} is the input file${input.name === path ? '' : ` (${printable(input.name)})`}; it would be emptied before it is read`)
  }
  // Any kind of file (by /dev/stdout: a pipe, a terminal) but the null device, which both can
  // share harmlessly.
  if (sameFile(log, fstatOrNull(STDOUT)) && !sameFile(log, statOrNull('/dev/null'))) {
    throw new UsageError(`--invalid-log: ${printable(path)} is standard output${log.isFile() ? "'s file" : ''}; its records would be mixed into the data`)
  }
}

/**
 * Standard output on a file (or a device other than a terminal) is Node's SyncWriteStream, whose
 * write ignores a short write: the rest of the chunk was dropped without an error. A file that
 * reaches `ulimit -f`, or a disk that fills, in the last write ended the run 'done', exit 0, with
 * the file cut short and the summary counting every byte. Here the rest is written too, so that
 * what the OS refuses is an error (EFBIG, ENOSPC) of that write, as for cat.
 */
function completeWrites (stream) {
  if (stream.constructor?.name !== 'SyncWriteStream' || typeof stream.fd !== 'number') return
  stream._write = function (chunk, encoding, callback) {
    try {
      for (let done = 0; done < chunk.length;) {
        const written = fs.writeSync(this.fd, chunk, done)
        // (A regular file never takes 0 bytes of a write without an error: no endless loop.)
        if (written === 0) throw Object.assign(new Error('EIO: no byte of the write was taken'), { code: 'EIO' })
        done += written
      }
    } catch (err) {
      callback(err)
      return
    }
    callback()
  }
}

/** `{ pos, flags }` of a descriptor from /proc/self/fdinfo (Linux), or null. */
function fdInfo (fd) {
  let text
  try {
    text = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1')
  } catch {
    return null
  }
  const pos = /^pos:\s*(\d+)/m.exec(text)
  const flags = /^flags:\s*([0-7]+)/m.exec(text)
  return pos === null || flags === null ? null : { pos: Number(pos[1]), flags: parseInt(flags[1], 8) }
}

/** The offset of a descriptor (stdin redirected from a file may start past 0), or null. */
function position (fd) {
  return fdInfo(fd)?.pos ?? null
}

module.exports = { InputError, checkInvalidLog, checkOutput, completeWrites, openInput, systemMessage }
