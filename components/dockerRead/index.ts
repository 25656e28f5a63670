// The read-only Docker API of the platform's own services: the DockerReadProxy component.
export {
    DOCKER_READ_DIR,
    DOCKER_READ_HOST,
    DOCKER_READ_IMAGE,
    DOCKER_READ_PATHS,
    DOCKER_READ_SOCKET,
    DOCKER_SOCKET,
    DockerReadProxy,
    dockerReadImageProblems,
    validateDockerReadProxyArgs,
} from "./dockerReadProxy";
export type { DockerReadProxyArgs, ServiceMount } from "./dockerReadProxy";
