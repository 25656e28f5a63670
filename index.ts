// Entry point of `pulumi up` / `pulumi preview`: the program's outputs become the stack outputs.
import { program } from "./program";

export = program;
