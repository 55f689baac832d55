// What the backend needs to know of images, asked of the engine once per image name and host: whether an image
// names a USER of its own (kept instead of Lambda's sandbox user), and which of some images is on the engine.
import type Dockerode from 'dockerode';
import { engineStatus } from '../docker/errors.ts';

export class ImageFacts {
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
