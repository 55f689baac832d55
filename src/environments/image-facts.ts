// What lambkin needs to know of images, asked of the engine: whether an image names a USER of its own (kept instead
// of Lambda's sandbox user), which of some images is on the engine, and which image a name stands for now (its ID and
// registry digests: an image function's CodeSha256 and ResolvedImageUri, resolvedImage below).
import type Dockerode from 'dockerode';
import { engineStatus } from '../docker/errors.ts';

/** What the engine says an image name stands for now. */
export interface ImageIdentity {
  /** The image ID, `sha256:<hex>` (the digest of its config). */
  id: string;
  /** `<repository>@sha256:<hex>` for each registry it was pulled from or pushed to; none for an image built here. */
  repoDigests: string[];
}

/** Asks the engine which image a name stands for; undefined when it has no such image. */
export interface ImageInspector {
  inspectImage(image: string): Promise<ImageIdentity | undefined>;
}

/** An image name resolved as Lambda resolves an ImageUri: to a digest, and the repository at that digest. */
export interface ResolvedImage {
  /** CodeSha256: the digest's hex, without `sha256:`. */
  digest: string;
  /** `<repository>@sha256:<digest>`, the repository as the ImageUri names it. */
  resolvedImageUri: string;
}

/**
 * `imageUri` resolved to the image the engine has: Lambda answers the manifest digest of the image in its repository
 * (`<repo>@sha256:<digest>`). An image pulled from (or pushed to) the repository named has that digest among its
 * RepoDigests; an image built here and never pushed has none, and then its image ID (also a sha256, of its config)
 * is the one stable digest there is: it names exactly this image, and changes when the image does.
 */
export function resolvedImage(imageUri: string, identity: ImageIdentity): ResolvedImage {
  const repository = repositoryOf(imageUri);
  const wanted = normalRepository(repository);
  const fromRegistry = identity.repoDigests.find((entry) => normalRepository(entry.slice(0, entry.lastIndexOf('@'))) === wanted);
  const digest = (fromRegistry ? fromRegistry.slice(fromRegistry.lastIndexOf('@') + 1) : identity.id).replace(/^sha256:/, '');
  return { digest, resolvedImageUri: `${repository}@sha256:${digest}` };
}

/** The repository an image reference names: without its tag (`:tag` after the last `/`) or digest (`@...`). */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf('@');
  const name = at === -1 ? reference : reference.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** Docker Hub's names as the engine spells them in RepoDigests (`alpine`, not `docker.io/library/alpine`). */
function normalRepository(repository: string): string {
  return repository.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
}

export class ImageFacts implements ImageInspector {
  private readonly docker: Dockerode;
  private readonly users = new Map<string, Promise<boolean>>();

  constructor(docker: Dockerode) {
    this.docker = docker;
  }

  /**
   * Whether an image names its own USER; false for a missing image (the create that follows reports it, in the
   * caller's words). Cached, except failures: asked again next time.
   */
  hasOwnUser(image: string): Promise<boolean> {
    let known = this.users.get(image);
    if (!known) {
      known = this.docker
        .getImage(image)
        .inspect()
        .then((info) => Boolean(info.Config?.User))
        .catch((error: unknown) => {
          this.users.delete(image);
          if (engineStatus(error) === 404) return false;
          throw error;
        });
      this.users.set(image, known);
    }
    return known;
  }

  /** What `image` stands for now; undefined when the engine has no such image. Not cached: a tag moves on a rebuild. */
  async inspectImage(image: string): Promise<ImageIdentity | undefined> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return { id: info.Id, repoDigests: info.RepoDigests ?? [] };
    } catch (error) {
      if (engineStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The first of `images` the engine has, or undefined. */
  async firstPresent(images: string[]): Promise<string | undefined> {
    for (const image of images) {
      try {
        await this.docker.getImage(image).inspect();
        return image;
      } catch {
        // not on this engine: try the next
      }
    }
    return undefined;
  }
}
