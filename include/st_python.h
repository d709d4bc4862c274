/* Shared by bpf/python.bpf.h and user/python/python.c: what userspace tells the BPF
 * program about one CPython process (where its thread states are, the
 * offsets of the fields on the way to each frame), and how the walked frames
 * are packed into a sample. Fixed-width fields only. */
#ifndef ST_PYTHON_H
#define ST_PYTHON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Processes the BPF side knows as Python (the py_procs map). */
#define ST_PY_MAX_PROCS 1024
/* Thread states walked (over every interpreter) to find the sampled thread's;
 * more than this and the rest go without Python frames (counted). */
#define ST_PY_MAX_THREADS 256
/* Bytes of one frame read at once: enough for every field the walk needs on
 * 3.10 (PyFrameObject.f_lasti ends at 100) and 3.11+ (owner at 70). */
#define ST_PY_FRAME_READ 104

/* How the frame chain is laid out. */
enum st_py_layout {
	ST_PY_LAYOUT_FRAMEOBJ = 1,	/* 3.10: PyFrameObject, one C eval call per frame */
	ST_PY_LAYOUT_ENTRY_FLAG = 2,	/* 3.11: _PyInterpreterFrame with is_entry */
	ST_PY_LAYOUT_CSTACK_OWNER = 3,	/* 3.12+: shim frames owned by the C stack */
};

/* Owner value of the C-stack shim frames (3.12+ FRAME_OWNED_BY_CSTACK). */
#define ST_PY_OWNED_BY_CSTACK 3
/* Unset offset. */
#define ST_PY_NO_OFF 0xffff

struct st_py_info {
	__u64 interp_head;	/* address of _PyRuntime.interpreters.head */
	__u16 layout;		/* enum st_py_layout */
	__u16 version;		/* major << 8 | minor, for userspace */
	__u16 interp_next;	/* PyInterpreterState -> next (subinterpreters) */
	__u16 interp_threads;	/* PyInterpreterState -> threads.head */
	__u16 tstate_next;
	__u16 tstate_thread_id;	/* pthread_t, which is the fsbase on x86-64 glibc */
	__u16 tstate_frame;	/* -> frame (3.10), cframe (3.11, 3.12), current_frame (3.13+) */
	__u16 cframe_frame;	/* _PyCFrame -> current_frame, or ST_PY_NO_OFF */
	__u16 frame_previous;	/* f_back / previous */
	__u16 frame_code;	/* f_code / f_executable */
	__u16 frame_instr;	/* f_lasti (int) on 3.10, else an instruction pointer */
	__u16 frame_entry;	/* is_entry (3.11) or owner (3.12+) byte, or ST_PY_NO_OFF */
	__u16 code_name;	/* PyCodeObject -> co_name, the code object's tag */
	__u16 pad[3];
};

/*
 * A Python frame in st_sample.ips, leaf first, ST_PY_FRAME_WORDS words:
 *   word 0: code object address | ST_PY_F_* flags in the top byte
 *   word 1: low 32 bits: f_lasti (3.10, in code units) or the instruction
 *           pointer minus the code object's address (3.11+), ST_PY_NO_INSTR
 *           when out of range; high 32 bits: the low half of the code's
 *           co_name pointer, read at sampling time. Userspace names code
 *           objects later; the tag tells it when the address it reads by
 *           then holds another code object (freed and reused memory).
 * ST_PY_F_ENTRY marks the outermost Python frame run by one C call of the
 * evaluation loop: the frames from one ENTRY (inclusive) leafward to the
 * next belong to one native _PyEval_EvalFrameDefault frame.
 */
#define ST_PY_F_ENTRY (1ull << 56)
#define ST_PY_NO_INSTR 0xffffffffu
#define ST_PY_ADDR_MASK ((1ull << 56) - 1)

#endif
