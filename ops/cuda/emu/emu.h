#pragma once
#define QP_EMU_UNKNOWN 1
#define QP_EMU_BARRIER 2
#ifdef __cplusplus
extern "C" {
#endif
int qp_emu_has(const char* name);
int qp_emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                  void** args);
#ifdef __cplusplus
}
#endif
