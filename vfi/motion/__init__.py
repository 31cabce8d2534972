"""Motion shared by classical and learned interpolators: DIS flow, the linear prior, occlusion, scale, compose."""
