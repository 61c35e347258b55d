/* The few MPI calls paralab makes, on MPI_COMM_WORLD, with plain C types
 * at the boundary: MPI's handles (MPI_Comm, MPI_Datatype, MPI_Request) are
 * macros and opaque types whose layout differs between Open MPI and MPICH,
 * so Rust never sees them. Compiled by build.rs with the MPI library's own
 * `mpicc`; src/sys/mpi.rs is the only caller. Each function returns MPI's
 * error code (MPI_SUCCESS is 0) unless it says otherwise. */

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

int paralab_mpi_init(int serialized, int *provided) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) {
        return -1;
    }
    int wanted = serialized ? MPI_THREAD_SERIALIZED : MPI_THREAD_SINGLE;
    return MPI_Init_thread(NULL, NULL, wanted, provided);
}

int paralab_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }

int paralab_mpi_finalize(void) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    return finalized ? MPI_SUCCESS : MPI_Finalize();
}

int paralab_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }

int paralab_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

int paralab_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

double paralab_mpi_wtime(void) { return MPI_Wtime(); }

int paralab_mpi_send(const void *bytes, int len, int peer, int tag) {
    return MPI_Send(bytes, len, MPI_BYTE, peer, tag, MPI_COMM_WORLD);
}

int paralab_mpi_recv(void *bytes, int len, int peer, int tag) {
    return MPI_Recv(bytes, len, MPI_BYTE, peer, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

/* Whether a message from `peer` is waiting (MPI_Iprobe): *flag 1 or 0. */
int paralab_mpi_iprobe(int peer, int tag, int *flag) {
    return MPI_Iprobe(peer, tag, MPI_COMM_WORLD, flag, MPI_STATUS_IGNORE);
}

/* osu_bw's window: `count` sends of the same buffer in flight at once. */
int paralab_mpi_send_window(const void *bytes, int len, int count, int peer, int tag) {
    MPI_Request *requests = malloc(sizeof(MPI_Request) * (size_t)count);
    if (requests == NULL) {
        return -1;
    }
    int code = MPI_SUCCESS;
    for (int i = 0; i < count && code == MPI_SUCCESS; i++) {
        code = MPI_Isend(bytes, len, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &requests[i]);
    }
    if (code == MPI_SUCCESS) {
        code = MPI_Waitall(count, requests, MPI_STATUSES_IGNORE);
    }
    free(requests);
    return code;
}

/* osu_bw's receiving side: `count` receives posted at once into one
 * buffer, overwritten by each message (as osu_bw does: only the time of
 * the transfers matters, not the bytes). */
int paralab_mpi_recv_window(void *bytes, int len, int count, int peer, int tag) {
    MPI_Request *requests = malloc(sizeof(MPI_Request) * (size_t)count);
    if (requests == NULL) {
        return -1;
    }
    int code = MPI_SUCCESS;
    for (int i = 0; i < count && code == MPI_SUCCESS; i++) {
        code = MPI_Irecv(bytes, len, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &requests[i]);
    }
    if (code == MPI_SUCCESS) {
        code = MPI_Waitall(count, requests, MPI_STATUSES_IGNORE);
    }
    free(requests);
    return code;
}

int paralab_mpi_gather(const void *mine, int len, void *all, int root) {
    return MPI_Gather(mine, len, MPI_BYTE, all, len, MPI_BYTE, root, MPI_COMM_WORLD);
}

int paralab_mpi_broadcast(void *bytes, int len, int root) {
    return MPI_Bcast(bytes, len, MPI_BYTE, root, MPI_COMM_WORLD);
}

int paralab_mpi_allreduce_sum(const double *mine, double *sum, int count) {
    return MPI_Allreduce(mine, sum, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

/* The host name MPI knows this rank by; returns its length, or -1. */
int paralab_mpi_processor_name(char *name, int capacity) {
    char buffer[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    if (MPI_Get_processor_name(buffer, &len) != MPI_SUCCESS) {
        return -1;
    }
    if (len > capacity) {
        len = capacity;
    }
    memcpy(name, buffer, (size_t)len);
    return len;
}

/* The library's own description ("Open MPI v4.1.4, …"); its length, or -1. */
int paralab_mpi_library_version(char *text, int capacity) {
    char buffer[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (MPI_Get_library_version(buffer, &len) != MPI_SUCCESS) {
        return -1;
    }
    if (len > capacity) {
        len = capacity;
    }
    memcpy(text, buffer, (size_t)len);
    return len;
}
