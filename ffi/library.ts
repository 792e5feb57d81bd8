/**
 * System libraries loaded with Deno.dlopen on first use (OpenSSL's libcrypto, ISA-L, libzstd): a command that
 * needs none of them loads none, and a missing one is an error that names the Debian package to install.
 */
export function systemLibrary<S extends Deno.ForeignLibraryInterface>(
  file: string,
  debianPackage: string,
  purpose: string,
  symbols: S,
): () => Deno.DynamicLibrary<S>["symbols"] {
  let lib: Deno.DynamicLibrary<S> | undefined;
  return () => {
    try {
      lib ??= Deno.dlopen(file, symbols);
    } catch (e) {
      // Deno repeats its own prefix ("Could not open library: Could not open library: libz.so.1: ...").
      const why = (e as Error).message.replace(/^(Could not open library: )+/, "");
      throw new Error(`${purpose} needs ${file}: install Debian's ${debianPackage} (${why})`);
    }
    return lib.symbols;
  };
}
