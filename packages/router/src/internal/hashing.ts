// The routing arithmetic lives in @chat/hashing (dependency-free, shared with @chat/client); the
// router re-exports that one source.
export { BUCKET_MS, bucketOf, fnv1a32, partitionOf, slotOf } from '@chat/hashing';
