// kernel_name: the demangled name of a kernel function, for the emulator's error messages. A
// kernel is usually a static function (an anonymous namespace), which the dynamic symbol table
// does not list, so the name comes from the .symtab of the file that contains it (read once per
// file, ELF64), found through dladdr.
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "simt_internal.h"

namespace simt::detail {
namespace {

// Function symbols of one ELF file: address (as linked) -> mangled name.
using SymbolTable = std::map<uint64_t, std::string>;

bool read_at(std::ifstream& f, uint64_t offset, void* dst, std::size_t bytes) {
  f.seekg(std::streamoff(offset));
  return bool(f.read(static_cast<char*>(dst), std::streamsize(bytes)));
}

SymbolTable load_symbols(const std::string& path, bool& position_independent) {
  SymbolTable table;
  std::ifstream f(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!f || !read_at(f, 0, &eh, sizeof eh) || eh.e_ident[EI_CLASS] != ELFCLASS64) return table;
  position_independent = eh.e_type == ET_DYN;
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  if (!read_at(f, eh.e_shoff, sections.data(), sizeof(Elf64_Shdr) * sections.size())) return table;
  for (const Elf64_Shdr& sh : sections) {
    if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= sections.size()) continue;
    const Elf64_Shdr& strtab = sections[sh.sh_link];
    std::string names(strtab.sh_size, '\0');
    std::vector<Elf64_Sym> syms(sh.sh_size / sizeof(Elf64_Sym));
    if (!read_at(f, strtab.sh_offset, names.data(), names.size()) ||
        !read_at(f, sh.sh_offset, syms.data(), sizeof(Elf64_Sym) * syms.size()))
      return table;
    for (const Elf64_Sym& s : syms)
      if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_value != 0 && s.st_name < names.size())
        table.emplace(s.st_value, names.c_str() + s.st_name);
  }
  return table;
}

std::string demangle(const std::string& mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  std::string s = status == 0 && out ? out : mangled;
  std::free(out);
  return s;
}

}  // namespace

std::string kernel_name(const void* fn) {
  static std::mutex mu;
  static std::map<std::string, std::pair<SymbolTable, bool>> files;
  static std::map<const void*, std::string> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(fn); it != cache.end()) return it->second;
  std::ostringstream fallback;
  fallback << "kernel at " << fn;
  std::string name = fallback.str();
  Dl_info info{};
  if (dladdr(fn, &info) != 0) {
    if (info.dli_sname && info.dli_saddr == fn) {
      name = demangle(info.dli_sname);
    } else {
      // The main program's dli_fname may be argv[0]: read it through /proc/self/exe.
      std::string path = info.dli_fname ? info.dli_fname : "";
      if (path.empty() || path.find('/') == std::string::npos) path = "/proc/self/exe";
      auto it = files.find(path);
      if (it == files.end()) {
        bool pie = true;
        SymbolTable t = load_symbols(path, pie);
        if (t.empty() && path != "/proc/self/exe") t = load_symbols("/proc/self/exe", pie);
        it = files.emplace(path, std::make_pair(std::move(t), pie)).first;
      }
      const uint64_t addr = reinterpret_cast<uint64_t>(fn) -
                            (it->second.second ? reinterpret_cast<uint64_t>(info.dli_fbase) : 0);
      if (auto s = it->second.first.find(addr); s != it->second.first.end()) name = demangle(s->second);
    }
  }
  cache.emplace(fn, name);
  return name;
}

}  // namespace simt::detail
