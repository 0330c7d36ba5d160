package s3kit

// writeBehindChunk is how many bytes of a range a download writes to its
// file before it asks the kernel to start writing them to disk (see
// startWriteback): the fsync before the rename then finds little left to
// write, and the disk works while the network does instead of after it.
const writeBehindChunk = 8 << 20
