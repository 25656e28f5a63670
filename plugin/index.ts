// What Pulumi's component analyzer reads for the package's schema: the library's public surface.
export * from "../components";
