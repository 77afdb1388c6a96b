// Package sizes describes the named thumbnail sizes of an image column, and
// loads them from YAML or JSON in the shape of django-thumbnails' SIZES
// setting:
//
//	small:
//	  processors:
//	    - {path: resize, width: 100, height: 100, method: fill}
//	    - {path: crop, width: 80, height: 80, center: ["50%", "50%"]}
//	  format: png
//	large:
//	  processors:
//	    - {path: thumbnails.processors.resize, width: 1200, height: 1200, method: fit}
//	  post_processors:
//	    - path: thumbnails.post_processors.optimize
//	      png_command: 'optipng -force -o7 "%(filename)s"'
//	      jpg_command: 'jpegoptim -f --strip-all "%(filename)s"'
//	  quality: 80
//	  lazy: true
//	  fallback_image_url: /static/no-image.png
//
// Each processor entry names its processor with path; its other keys are the
// processor's parameters (see processors.New). Post-processor entries have the
// same shape (see processors.NewPost). Size names and keys are
// case-insensitive.
package sizes
