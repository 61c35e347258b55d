//! With the `mpi` feature: compiles `src/sys/mpi.c`, paralab's few MPI
//! calls, with the MPI library's own `mpicc`, and links the library; or
//! stops the build with one sentence saying what to install.
//!
//! Without the feature it does nothing.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/sys/mpi.c");
    #[cfg(feature = "mpi")]
    mpi::build();
}

#[cfg(feature = "mpi")]
mod mpi {
    /// Finds MPI the way the `mpi` crate's build does (`$MPI_PKG_CONFIG`,
    /// `$CRAY_MPICH_DIR`, `$MPICC` or `mpicc -show`, pkg-config's `mpich`
    /// or `ompi`), through the same crate, build-probe-mpi.
    pub(crate) fn build() {
        for variable in ["MPICC", "MPI_PKG_CONFIG", "CRAY_MPICH_DIR"] {
            println!("cargo::rerun-if-env-changed={variable}");
        }
        let library = match build_probe_mpi::probe() {
            Ok(library) => library,
            Err(_) => {
                println!(
                    "cargo::error=the mpi feature needs an MPI library and its compiler \
                     wrapper mpicc, found neither: install Open MPI (Debian: apt-get install \
                     libopenmpi-dev openmpi-bin), or set MPICC to your mpicc, or build \
                     without --features mpi"
                );
                return;
            }
        };
        let mut shim = cc::Build::new();
        shim.file("src/sys/mpi.c").warnings(true);
        match &library.mpicc {
            Some(mpicc) => {
                shim.compiler(mpicc);
            }
            None => {
                for directory in &library.include_paths {
                    shim.include(directory);
                }
            }
        }
        if let Err(error) = shim.try_compile("paralab_mpi") {
            println!(
                "cargo::error=could not compile src/sys/mpi.c with {}: {error}",
                library
                    .mpicc
                    .as_deref()
                    .unwrap_or("the C compiler and MPI's headers")
            );
            return;
        }
        for directory in &library.lib_paths {
            println!("cargo::rustc-link-search=native={}", directory.display());
        }
        for name in &library.libs {
            println!("cargo::rustc-link-lib={name}");
        }
    }
}
