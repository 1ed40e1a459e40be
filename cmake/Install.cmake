# Install.cmake - what `cmake --install` puts where (GNU layout under CMAKE_INSTALL_PREFIX), and
# the Debian package CPack builds from it (`cpack -G DEB` in the build directory).
#
#   bin/sparsescope, bin/sparsescope-cli
#   share/sparsescope/{models,ood,icons}            the demo models; the window finds them beside bin/
#   share/applications/org.sparsescope.SparseScope.desktop
#   share/metainfo/org.sparsescope.SparseScope.metainfo.xml   (AppStream)
#   share/mime/packages/org.sparsescope.SparseScope.xml       (*.sparsescope sessions)
#   share/icons/hicolor/{SIZE,scalable}/apps/org.sparsescope.SparseScope.{png,svg}
#   share/man/man1/sparsescope.1.gz, sparsescope-cli.1.gz
#   share/doc/sparsescope/{README.md,docs/*.md,copyright}
#
# The runtime libraries become Depends through dpkg-shlibdeps (Qt, its SVG plugins, OpenBLAS, ...).

include(GNUInstallDirs)
set(doc_dir ${CMAKE_INSTALL_DATADIR}/doc/sparsescope) # Debian's name, not the project's (SparseScope)

set(app_id org.sparsescope.SparseScope)
set(res ${CMAKE_SOURCE_DIR}/resources)

install(TARGETS sparsescope-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${res}/models DESTINATION ${CMAKE_INSTALL_DATADIR}/sparsescope)
install(DIRECTORY ${res}/ood DESTINATION ${CMAKE_INSTALL_DATADIR}/sparsescope) # out-of-distribution glyphs (eval --ood glyphs)
install(FILES ${res}/icons/sparsescope.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/sparsescope/icons)

if(SPARSESCOPE_BUILD_GUI)
  install(TARGETS sparsescope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${res}/${app_id}.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${res}/${app_id}.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
  install(FILES ${res}/${app_id}.mime.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/mime/packages RENAME ${app_id}.xml)
  install(FILES ${res}/icons/sparsescope.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps RENAME ${app_id}.svg)
  foreach(size ${SPARSESCOPE_ICON_SIZES})
    install(FILES ${CMAKE_BINARY_DIR}/icons/${size}x${size}/${app_id}.png DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps)
  endforeach()
endif()

# Man pages, compressed as Debian installs them.
set(man_pages sparsescope.1 sparsescope-cli.1)
set(man_outputs "")
foreach(page ${man_pages})
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND gzip -9 -n -c ${CMAKE_SOURCE_DIR}/docs/man/${page} > ${CMAKE_BINARY_DIR}/man/${page}.gz
    DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/${page})
  list(APPEND man_outputs ${CMAKE_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(sparsescope-man ALL DEPENDS ${man_outputs})
install(FILES ${man_outputs} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES ${CMAKE_SOURCE_DIR}/README.md ${res}/copyright DESTINATION ${doc_dir})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${doc_dir}/docs FILES_MATCHING PATTERN "*.md")

# --- the Debian package ---------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sparsescope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "explorer for sparse, quantized and mixture-of-experts neural networks")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "SparseScope loads an image classifier, an ONNX model or a Hugging Face language
model (dense or mixture-of-experts), compresses it with pruning, quantization and
expert routing settings, and measures the cost against the dense model: accuracy or
perplexity, latency on this machine and expert use. Runs are kept in session files.
.
This package holds the window (sparsescope), the command-line tool (sparsescope-cli)
and two small demo models.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "SparseScope developers <developers@sparsescope.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # sparsescope_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends from the libraries the programs link (dpkg-shlibdeps)
# The demo classifier evaluates on Fashion-MNIST.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
include(CPack)
